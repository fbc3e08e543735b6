"""Quick-look plot of one field of a hydro snapshot, or of a phase-space snapshot.

Usage::

    hydro plot OUTPUT.h5 --field density [--out file.png] [--axis z] [--log]
    hydro plot PHASE.h5 --field f|delta_f|energy|contrast [--out file.png] [--log]

The snapshot is opened with plain ``yt.load`` (it is a Grid Data Format
file), so this module needs only yt, h5py, numpy and matplotlib, never
hydro's solver. 1D data gives a line plot of the field against the grid's
coordinate over the whole domain (x, or the radius r of a spherical run);
2D and 3D data give a ``yt.SlicePlot`` through the domain centre, normal to
``--axis``. ``--log`` gives a logarithmic scale, or a symmetric log scale
where the plotted values include zero or negative ones. The PNG goes to
``--out`` or, by default, to ``<snapshot stem>_<field>.png`` next to the
snapshot.

Labels follow the run's units: a run with physical units shows lengths and
times in the units it declared (``r [pc]``, ``t = 5 kyr``); a run in
dimensionless code units (the snapshot's ``dimensionless_units`` parameter,
see ``hydro.io.gdf``) shows bare code values (``x``, ``t = 2``), since the cgs
units yt attaches to such data mean nothing.

Bad input never gives a traceback: a missing, unreadable or damaged file, an
HDF5 file that is not a GDF snapshot, an ``--out`` in a missing or
unwritable directory, an unknown field or one that yt cannot compute from
the file give a one-line error on stderr and exit status 2
(``HYDRO_DEBUG=1`` shows the traceback of the last two).

Phase-space snapshots (the vlasov system: a 2D file whose ``system``
parameter is "vlasov", see ``hydro.analysis.phase_space``) are drawn as an
image of the field in the (z, v_z) plane with matplotlib, not a SlicePlot
(yt takes both axes for lengths). The fields are the file's ``f`` (the
default), ``delta_f`` = f - f0 and ``energy``, and ``contrast`` = f / <f>_theta
- 1, the phase-spiral contrast against the average of f over the orbital angle
at fixed energy (how it is computed: ``hydro.analysis.phase_space``; cells on
orbits that leave the grid have none and are drawn grey). Axes are labelled
``z [kpc]`` and ``v_z [km/s]``: z in the run's length unit, v_z in km/s, and
the colour bar's unit likewise written with the run's mass and length units
and km/s (f in Msun*s/(km*kpc**3), i.e. Msun per kpc^2 per kpc per km/s); a
dimensionless run shows bare code values (``z``, ``v_z``, ``f``). delta_f and
contrast use a diverging colour map symmetric about 0. ``--log`` gives a
logarithmic colour scale for positive data, else a symmetric log scale, linear
within 1e-3 of the largest absolute value.
"""

import argparse
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import yt  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.colors import LogNorm, Normalize, SymLogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from . import phase_space  # noqa: E402

DIVERGING = ("delta_f", "contrast")
"""Phase-space fields drawn with a colour map symmetric about 0."""

SYMLOG_FRACTION = 1e-3
"""A symmetric log colour scale is linear within this fraction of the largest |value|."""


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = _parse_args(argv)
    snapshot = Path(args.snapshot)
    if not snapshot.is_file():
        return _fail(f"no such snapshot file: {snapshot}")
    problem = _not_a_snapshot(snapshot)
    if problem:
        return _fail(f"{snapshot}: {problem}")
    if args.field is None:
        args.field = "f" if _is_phase_space_file(snapshot) else "density"
    out = Path(args.out) if args.out else snapshot.with_name(f"{snapshot.stem}_{args.field}.png")
    problem = _not_writable(out)
    if problem:
        return _fail(f"cannot write {out}: {problem}")

    yt.set_log_level("error")
    try:
        ds = yt.load(str(snapshot))
        ds.index  # yt reads the grid tables lazily: a damaged file fails here
    except Exception as e:  # anything that stops yt reading the file is a bad file
        if os.environ.get("HYDRO_DEBUG"):
            raise
        return _fail(f"{snapshot}: cannot read it as a GDF snapshot ({_first_line(e)})")

    if phase_space.is_phase_space(ds):
        return _plot_phase_space(ds, snapshot, args, out)
    field = find_field(ds, args.field)
    if field is None:
        return _fail(f"{snapshot}: unknown field {args.field!r}; available: "
                     f"{', '.join(_field_names(ds))} (and the fields yt derives from them)")
    if ds.dimensionality == 2 and args.axis != "z":
        return _fail(f"{snapshot}: 2D data can only be sliced normal to z, not {args.axis}")

    title = f"{snapshot.name}   t = {time_label(ds)}"
    try:
        if ds.dimensionality == 1:
            figure = profile_figure(ds, field, args.log, title)
        else:
            figure = slice_plot(ds, field, args.axis, args.log, title)
            figure.render()
    except Exception as e:  # yt lists derived fields that it cannot compute from this file
        if os.environ.get("HYDRO_DEBUG"):
            raise
        return _fail(f"{snapshot}: cannot compute field {args.field!r} ({_first_line(e)})")
    try:
        if ds.dimensionality == 1:
            figure.savefig(out, dpi=120)
        else:
            figure.save(str(out))
    except OSError as e:
        return _fail(f"cannot write {out}: {e.strerror or _first_line(e)}")
    print(out)
    return 0


def _parse_args(argv):
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="hydro plot",
        description="Plot one field of a hydro snapshot (1D: profile, 2D/3D: slice), or "
                    "of a phase-space (vlasov) snapshot (image in the (z, v_z) plane).")
    parser.add_argument("snapshot", help="snapshot file (GDF/HDF5)")
    parser.add_argument("--field",
                        help="field name (default: density); a phase-space snapshot has "
                             "f (default), delta_f, energy and contrast = f/<f>_theta - 1, "
                             "the phase-spiral contrast against the orbit-angle average")
    parser.add_argument("--out", help="output PNG (default: <snapshot stem>_<field>.png "
                                      "next to the snapshot)")
    parser.add_argument("--axis", choices=("x", "y", "z"), default="z",
                        help="slice normal for 2D/3D data (default: z; not used for "
                             "phase-space snapshots)")
    parser.add_argument("--log", action="store_true",
                        help="logarithmic colour/y scale (symmetric log for values <= 0)")
    return parser.parse_args(argv)


def _fail(message):
    """Print a one-line error to stderr and return exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def _first_line(exc):
    """The first line of an exception's message (yt's run over several), or its type."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _not_a_snapshot(path):
    """Why ``path`` is not a GDF file (checked with h5py before yt sees it), or None."""
    try:
        if not h5py.is_hdf5(path):
            return "not an HDF5 file"
        with h5py.File(path, "r") as f:
            if "gridded_data_format" not in f:
                return "not a GDF snapshot (an HDF5 file without a gridded_data_format group)"
    except OSError as e:
        return f"cannot read it ({_first_line(e)})"
    return None


def _is_phase_space_file(path):
    """Whether the GDF file ``path`` says it is a phase-space snapshot (read with h5py,
    to choose the default field before yt opens the file)."""
    try:
        with h5py.File(path, "r") as f:
            system = f["simulation_parameters"].attrs.get("system", "")
    except (OSError, KeyError):
        return False
    if isinstance(system, bytes):
        system = system.decode(errors="replace")
    return str(system) == phase_space.SYSTEM


def _not_writable(out):
    """Why the PNG ``out`` cannot be written, or None; checked before any plotting."""
    parent = out.parent
    if out.is_dir():
        return "it is a directory"
    if not parent.exists():
        return f"no such directory: {parent}"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {parent} is not writable"
    if out.exists() and not os.access(out, os.W_OK):
        return "the file is not writable"
    return None


def is_dimensionless(ds):
    """Whether ``ds`` is a run in dimensionless code units (marked by hydro's writer)."""
    return bool(ds.parameters.get("dimensionless_units", 0))


def find_field(ds, name):
    """The yt field tuple for ``name``: ("gas", name) if yt knows it; else yt's ("gas", ...)
    name of the file's field ``name`` (a spherical file's velocity_x is velocity_r);
    else ("gdf", name); None if the file has no such field."""
    if ("gas", name) in ds.derived_field_list:
        return ("gas", name)
    if ("gdf", name) in ds.field_list:
        return _gas_aliases(ds).get(name, ("gdf", name))
    return None


def _gas_aliases(ds):
    """File field name -> the ("gas", ...) field that yt makes of it."""
    return {target[1]: alias for alias, target in ds.field_info.field_aliases.items()
            if alias[0] == "gas" and target[0] == "gdf"}


def _field_names(ds):
    """The fields of the file, under the names to ask for them by."""
    aliases = _gas_aliases(ds)
    return sorted(aliases[name][1] if name in aliases else name for _, name in ds.field_list)


def time_label(ds):
    """Current time of ``ds`` as text: in the run's own time unit, or a bare number
    for a dimensionless run."""
    if is_dimensionless(ds):
        return f"{float(ds.current_time.to('code_time')):.6g}"
    time = ds.current_time.to(ds.time_unit.units)
    return f"{float(time):.6g} {time.units}"


def _label(name, units, dimensionless):
    """Axis label ``name [units]``, or just ``name`` without units."""
    if dimensionless or str(units) == "dimensionless":
        return name
    return f"{name} [{units}]"


def profile_figure(ds, field, log=False, title=None):
    """Matplotlib figure of ``field`` against the grid coordinate (x, or r on a spherical
    grid) for all cells of a 1D dataset."""
    dimensionless = is_dimensionless(ds)
    coordinate = ds.coordinates.axis_order[0]
    cells = ds.all_data()  # ds.r[:] fails on 1D data in yt 4.4 (empty ortho ray)
    position = cells["index", coordinate]
    values = cells[field]
    if dimensionless:  # code units are 1 cm, 1 g, 1 s: cgs numbers are the code values
        position, values = position.to("code_length"), values.in_cgs()
    else:
        position = position.to(ds.length_unit.units)
    order = np.argsort(position.d)
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(position.d[order], values.d[order], marker=".", markersize=3)
    edges = [ds.domain_left_edge[0], ds.domain_right_edge[0]]
    ax.set_xlim(*(float(edge.to(position.units)) for edge in edges))
    ax.set_xlabel(_label(coordinate, position.units, dimensionless))
    ax.set_ylabel(_label(field[1], values.units, dimensionless))
    if log:
        ax.set_yscale("log" if values.min() > 0 else "symlog")
    if title:
        ax.set_title(title)
    return fig


def slice_plot(ds, field, axis, log=False, title=None):
    """yt SlicePlot of ``field`` through the domain centre, normal to ``axis``; a
    dimensionless run gets axes in code lengths and labels without units."""
    plot = yt.SlicePlot(ds, axis, field, center=ds.domain_center, origin="native")
    if log and np.nanmin(plot.frb[field]) <= 0:
        plot.set_log(field, linthresh="auto")
    else:
        plot.set_log(field, log)
    if is_dimensionless(ds):
        coordinates = ds.coordinates
        normal = coordinates.axis_id[axis]
        plot.set_axes_unit("code_length")
        plot.set_xlabel(coordinates.axis_name[coordinates.x_axis[normal]])
        plot.set_ylabel(coordinates.axis_name[coordinates.y_axis[normal]])
        plot.set_colorbar_label(field, field[1])
    if title:
        plot.annotate_title(title)
    return plot


def _plot_phase_space(ds, snapshot, args, out):
    """The ``main`` of a phase-space snapshot: check, draw ``args.field``, save to ``out``."""
    if ds.dimensionality != 2:
        return _fail(f"{snapshot}: a phase-space snapshot must be 2D, this one is "
                     f"{ds.dimensionality}D")
    if args.axis != "z":
        return _fail(f"{snapshot}: a phase-space snapshot is drawn in the (z, v_z) plane; "
                     f"--axis {args.axis} does not apply")
    names = phase_space.field_names(ds)
    if args.field not in names:
        return _fail(f"{snapshot}: unknown field {args.field!r}; available: {', '.join(names)}")
    title = f"{snapshot.name}   t = {time_label(ds)}"
    try:
        figure = phase_space_figure(ds, args.field, args.log, title)
    except Exception as e:  # a damaged grid, a contrast without orbits, units yt refuses
        if os.environ.get("HYDRO_DEBUG"):
            raise
        return _fail(f"{snapshot}: cannot compute field {args.field!r} ({_first_line(e)})")
    try:
        figure.savefig(out, dpi=120)
    except OSError as e:
        return _fail(f"cannot write {out}: {e.strerror or _first_line(e)}")
    print(out)
    return 0


def phase_space_values(ds, field):
    """``(values, edges, labels)`` of a phase-space snapshot: ``field`` (a name of
    ``phase_space.field_names``) on the grid [i_z, i_v], as numbers in the units
    shown; the cell edges of both axes in the units shown; and the labels of the
    two axes and the field."""
    (name_z, unit_z), (name_v, unit_v) = phase_space.axes(ds)
    if field == "contrast":
        wanted = [n for n in ("f", "delta_f", "energy") if ("gdf", n) in ds.field_list]
    else:
        wanted = [field]
    data, edges = phase_space.cell_data(ds, wanted)
    if field == "contrast":
        delta_f = data["delta_f"].d if "delta_f" in data else None
        values, units = phase_space.contrast(data["f"].d, data["energy"].d, delta_f), None
    else:
        values = data[field]
        units = phase_space.display_units(ds, str(values.units))
        values = values.to(units).d if units is not None else values.d
    labels = []
    for (name, unit), axis_edges in zip(((name_z, unit_z), (name_v, unit_v)), edges):
        shown = phase_space.display_units(ds, unit)
        labels.append(_label(name, shown, shown is None))
        if shown is not None:
            axis_edges[:] = ds.arr(axis_edges, unit).to(shown).d
    labels.append(_label(field, units, units is None))
    return values, edges, labels


def phase_space_figure(ds, field, log=False, title=None):
    """Matplotlib figure of ``field`` of a phase-space snapshot as an image in the
    (z, v_z) plane (see the module docstring for units, colours and ``log``)."""
    values, (z_edges, v_edges), (z_label, v_label, label) = phase_space_values(ds, field)
    finite = values[np.isfinite(values)]
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    largest = largest if largest > 0 else 1.0
    if field in DIVERGING:
        cmap = colormaps["RdBu_r"]
        if log:
            norm = SymLogNorm(SYMLOG_FRACTION * largest, vmin=-largest, vmax=largest)
        else:
            norm = Normalize(-largest, largest)
    else:
        cmap = colormaps["viridis"]
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 1.0
        if log and low > 0:
            norm = LogNorm(low, high)
        elif log:
            norm = SymLogNorm(SYMLOG_FRACTION * largest, vmin=low, vmax=high)
        else:
            norm = Normalize(low, high)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(values.T, origin="lower", aspect="auto", interpolation="nearest",
                      extent=(z_edges[0], z_edges[-1], v_edges[0], v_edges[-1]),
                      cmap=cmap.with_extremes(bad="0.8"), norm=norm)
    ax.set_xlabel(z_label)
    ax.set_ylabel(v_label)
    fig.colorbar(image, ax=ax, label=label)
    if title:
        ax.set_title(title)
    return fig


if __name__ == "__main__":
    sys.exit(main())
