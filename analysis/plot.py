"""Quick-look plot of one field of a hydro snapshot.

Usage::

    hydro plot OUTPUT.h5 --field density [--out file.png] [--axis z] [--log]

The snapshot is opened with plain ``yt.load`` (it is a Grid Data Format
file), so this module needs only yt, numpy and matplotlib, never hydro's
solver. 1D data gives a line plot of the field against x over the whole
domain; 2D and 3D data give a ``yt.SlicePlot`` through the domain centre,
normal to ``--axis``. ``--log`` gives a logarithmic scale, or a symmetric
log scale where the plotted values include zero or negative ones. The PNG
goes to ``--out`` or, by default, to ``<snapshot stem>_<field>.png`` next to
the snapshot. Missing files, unreadable files and unknown fields give a
one-line error and exit status 2.
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import yt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from yt.utilities.exceptions import YTUnidentifiedDataType  # noqa: E402


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = _parse_args(argv)
    snapshot = Path(args.snapshot)
    if not snapshot.is_file():
        return _fail(f"no such snapshot file: {snapshot}")
    yt.set_log_level("warning")
    try:
        ds = yt.load(str(snapshot))
    except YTUnidentifiedDataType:
        return _fail(f"{snapshot}: not a format yt can read")

    field = _find_field(ds, args.field)
    if field is None:
        available = ", ".join(sorted(name for _, name in ds.field_list))
        return _fail(f"{snapshot}: unknown field {args.field!r}; available: {available}")
    if ds.dimensionality == 2 and args.axis != "z":
        return _fail(f"{snapshot}: 2D data can only be sliced normal to z, not {args.axis}")

    out = Path(args.out) if args.out else snapshot.with_name(f"{snapshot.stem}_{args.field}.png")
    title = f"{snapshot.name}   t = {_time_label(ds)}"
    if ds.dimensionality == 1:
        _plot_profile(ds, field, out, args.log, title)
    else:
        _plot_slice(ds, field, args.axis, out, args.log, title)
    print(out)
    return 0


def _parse_args(argv):
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="hydro plot",
        description="Plot one field of a hydro snapshot (1D: profile, 2D/3D: slice).")
    parser.add_argument("snapshot", help="snapshot file (GDF/HDF5)")
    parser.add_argument("--field", default="density", help="field name (default: density)")
    parser.add_argument("--out", help="output PNG (default: <snapshot stem>_<field>.png "
                                      "next to the snapshot)")
    parser.add_argument("--axis", choices=("x", "y", "z"), default="z",
                        help="slice normal for 2D/3D data (default: z)")
    parser.add_argument("--log", action="store_true",
                        help="logarithmic colour/y scale (symmetric log for values <= 0)")
    return parser.parse_args(argv)


def _fail(message):
    """Print a one-line error to stderr and return exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def _find_field(ds, name):
    """The yt field tuple for ``name``: ("gas", name) if yt knows it, else ("gdf", name)."""
    if ("gas", name) in ds.derived_field_list:
        return ("gas", name)
    if ("gdf", name) in ds.field_list:
        return ("gdf", name)
    return None


def _time_label(ds):
    """Current time of ``ds`` in the dataset's own time unit, as text."""
    time = ds.current_time.to(ds.time_unit.units)
    return f"{float(time):.6g} {time.units}"


def _plot_profile(ds, field, out, log, title):
    """Line plot of ``field`` against x for all cells of a 1D dataset."""
    cells = ds.all_data()  # ds.r[:] fails on 1D data in yt 4.4 (empty ortho ray)
    x = cells["index", "x"].to(ds.length_unit.units)
    values = cells[field]
    order = np.argsort(x.d)
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x.d[order], values.d[order], marker=".", markersize=3)
    edges = [ds.domain_left_edge[0], ds.domain_right_edge[0]]
    ax.set_xlim(*(float(edge.to(x.units)) for edge in edges))
    ax.set_xlabel(f"x [{x.units}]")
    units = str(values.units)
    ax.set_ylabel(f"{field[1]} [{units}]" if units != "dimensionless" else field[1])
    if log:
        ax.set_yscale("log" if values.min() > 0 else "symlog")
    ax.set_title(title)
    fig.savefig(out, dpi=120)


def _plot_slice(ds, field, axis, out, log, title):
    """Slice of ``field`` through the domain centre, normal to ``axis``."""
    plot = yt.SlicePlot(ds, axis, field, center=ds.domain_center, origin="native")
    if log and np.nanmin(plot.frb[field]) <= 0:
        plot.set_log(field, linthresh="auto")
    else:
        plot.set_log(field, log)
    plot.annotate_title(title)
    plot.save(str(out))


if __name__ == "__main__":
    sys.exit(main())
