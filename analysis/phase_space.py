"""Phase-space snapshots of the vlasov system: reading them and the phase-spiral contrast.

A phase-space snapshot is a 2D GDF file (``hydro.io.gdf``) whose x axis is the height
z and whose y axis is the vertical velocity v_z. Its ``/simulation_parameters``
(``ds.parameters`` in yt) say ``system`` = "vlasov", ``axis_names`` = "z,v_z" and
``axis_units`` = "code_length,code_length/code_time" (yt calls both axes lengths;
these attributes say what they are). Its fields are ``f``, ``delta_f`` = f - f0
(f0 the unperturbed equilibrium, a function of energy only) and ``energy``, the
orbital energy E = v_z^2/2 + Phi0(z) of the unperturbed potential at each cell
centre. This module reads such a file through yt only (never hydro's solver).

Contrast
--------
The Gaia-style phase-spiral contrast is f / <f>_theta - 1, where <f>_theta is the
average of f over the orbital angle theta at fixed energy. Since dz dv_z =
dJ dtheta, the cells of a thin energy shell sample theta uniformly, so
<f>_theta is the plain (equal-area) mean of f over the cells of the shell.
:func:`contrast` computes it so:

* Shells are bins in s = sqrt(E - E_min) (for a harmonic potential s is the
  radius in phase space scaled to a circle, so equal bins in s are rings of
  equal width). The finest shells are one cell wide along each axis: their
  number is half the smaller of the numbers of cells that the largest complete
  orbit spans along z and along v_z, through the energy minimum. Going outwards
  from the centre, fine shells are merged until each holds at least
  ``min_cells`` cells (default 32), so only the innermost few are wider; a
  leftover outermost shell with fewer cells joins the one inside it.
* Only orbits that lie wholly inside the grid have a complete shell: cells with
  an energy above the lowest energy on the grid's outermost cells have no angle
  average and get NaN (grey in ``hydro plot``).
* A cell between two shell edges gives them weights 1 - t and t by its place t
  between them (tent weights in s). Hard-edged shells one cell wide alias the
  lattice of cells into the average: on 512^2 cells an m = 2 pattern came out
  with errors of 0.1 to 0.2 of its amplitude in every shell; with tent weights,
  1e-3 of it outside the innermost and outermost shells.
* At each edge, the weighted least-squares line of f in E through its cells;
  <f>_theta at a cell is the blend, with its two weights, of its two edges'
  lines at the cell's own energy. So a smooth dependence on E across a shell's
  width is not mistaken for contrast (one linear in E is removed exactly), while
  an angle pattern does not tilt the lines, as over a complete shell it is
  uncorrelated with E.
* Where the file has delta_f, f0 = f - delta_f is known at each cell and only
  delta_f is averaged: <f>_theta = f0 + <delta_f>_theta, contrast =
  (delta_f - <delta_f>_theta) / <f>_theta. The equilibrium's steep fall with
  energy then leaves no trace: f = f0(E) gives a contrast of exactly 0, and a
  delta_f that is a function of E gives 0 to round-off if linear in E, 3e-4
  for 0.01 f0 E / sigma^2 on an 80 x 72 grid. Without delta_f (``delta_f=None``)
  f itself is averaged: an f = exp(-E / sigma^2) then gives contrast up to
  0.017 there (sigma = 0.3 of the grid's largest velocity), 6e-4 on 512^2.

Measured on a harmonic potential (``tests/test_plot_phase_space.py``, grid off
centre so that no mirror symmetry cancels errors, 80 x 72 cells): a pattern
A cos(m theta - phase) comes out to 0.008 A in all shells but the innermost and
outermost (few cells, or tents cut at the grid's edge: up to 0.12 A), and its
fitted amplitude to 1e-3 of A (m = 1, 2). Cost: a few bincounts, 0.07 s at 512^2.
"""

import numpy as np
from unyt import Unit
from unyt import dimensions as unyt_dimensions

SYSTEM = "vlasov"
"""The ``system`` parameter of a phase-space snapshot."""

DEFAULT_MIN_CELLS = 32
"""Fewest cells in one energy shell (inner shells are widened to hold this many)."""


def _text(value):
    """An HDF5 string attribute as str (h5py may give bytes)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)


def is_phase_space(ds):
    """Whether the yt dataset ``ds`` is a phase-space snapshot of the vlasov system."""
    return _text(ds.parameters.get("system", "")) == SYSTEM


def axes(ds):
    """[(name, unit expression)] of the snapshot's two axes, from its parameters
    (default ``z``, ``v_z`` in code_length and code_length/code_time)."""
    names = _text(ds.parameters.get("axis_names", "z,v_z")).split(",")
    units = _text(ds.parameters.get("axis_units",
                                    "code_length,code_length/code_time")).split(",")
    if len(names) != 2 or len(units) != 2:
        raise ValueError(f"axis_names {names} and axis_units {units} must name two axes")
    return [(n.strip(), u.strip()) for n, u in zip(names, units)]


def field_names(ds):
    """The fields a phase-space snapshot can be plotted by: its own, and ``contrast``
    where it has ``f`` and ``energy``."""
    names = {name for _, name in ds.field_list}
    if {"f", "energy"} <= names:
        names.add("contrast")
    return sorted(names)


def display_units(ds, expression):
    """The units to show a quantity of unit ``expression`` (code units of ``ds``) in:
    None for a dimensionless run (code values); else its mass, length and time
    written with the run's mass unit, the run's length unit and km/s (velocity
    standing in for time: z in kpc, v_z in km/s, f per kpc per km/s)."""
    if bool(ds.parameters.get("dimensionless_units", 0)):
        return None
    units = ds.arr(1.0, expression).units
    powers = units.dimensions.as_powers_dict()
    mass = float(powers.pop(unyt_dimensions.mass, 0))
    length = float(powers.pop(unyt_dimensions.length, 0))
    time = float(powers.pop(unyt_dimensions.time, 0))
    if any(power != 0 for power in powers.values()):  # not mass, length, time: cgs
        return units.get_cgs_equivalent()
    return (ds.mass_unit.units ** mass * ds.length_unit.units ** (length + time)
            * Unit("km/s") ** (-time))


def cell_data(ds, names):
    """Arrays of the fields ``names`` (file fields) over the whole grid, indexed
    [i_z, i_v], as unyt arrays in the dataset's code units; and the cell edges of
    both axes as numpy arrays of code values (in the units of :func:`axes`)."""
    grid = ds.covering_grid(0, ds.domain_left_edge, ds.domain_dimensions)
    data = {name: grid["gdf", name][:, :, 0] for name in names}
    edges = [np.linspace(float(ds.domain_left_edge[a].to("code_length").d),
                         float(ds.domain_right_edge[a].to("code_length").d),
                         int(ds.domain_dimensions[a]) + 1) for a in (0, 1)]
    return data, edges


def nodes(energy, min_cells=DEFAULT_MIN_CELLS):
    """The shells of a 2D grid of cell energies (see the module docstring).

    Returns ``(s, edges, inside)``: each cell's s = sqrt(E - E_min); the shells'
    edges in s, from 0 to the largest complete orbit (at least two); and the mask
    of the cells on complete orbits (finite energy, s <= the last edge)."""
    energy = np.asarray(energy, dtype=np.float64)
    if energy.ndim != 2:
        raise ValueError(f"energy must be a 2D grid, got shape {energy.shape}")
    finite = np.isfinite(energy)
    if not finite.any():
        return np.zeros(energy.shape), np.array([0.0, 0.0]), np.zeros(energy.shape, bool)
    e_min = np.nanmin(energy)
    ring = np.concatenate([energy[0], energy[-1], energy[:, 0], energy[:, -1]])
    # orbits below this energy stay on the grid; the tolerance keeps mirror cells
    # (equal energies up to round-off of their coordinates) on the same side
    e_edge = np.nanmin(ring)
    e_edge += 1e-9 * (e_edge - e_min)
    inside = finite & (energy <= e_edge)
    s = np.sqrt(np.maximum(np.where(finite, energy, e_min) - e_min, 0.0))
    s_edge = np.sqrt(max(e_edge - e_min, 0.0))
    if s_edge == 0.0:
        return s, np.array([0.0, 0.0]), inside

    i0, j0 = np.unravel_index(np.nanargmin(energy), energy.shape)
    span = min(np.count_nonzero(inside[:, j0]), np.count_nonzero(inside[i0, :]))
    n_fine = max(1, span // 2)
    fine = np.minimum((s[inside] / s_edge * n_fine).astype(np.int64), n_fine - 1)
    counts = np.bincount(fine, minlength=n_fine)
    edges, held = [0.0], 0
    for k in range(n_fine):  # merge fine shells outwards until each holds min_cells
        held += counts[k]
        if held >= min_cells:
            edges.append((k + 1) * s_edge / n_fine)
            held = 0
    if held or len(edges) == 1:  # a thin leftover outermost shell joins the one inside
        if len(edges) > 1:
            edges.pop()
        edges.append(s_edge)
    return s, np.array(edges), inside


def angle_average(values, energy, min_cells=DEFAULT_MIN_CELLS):
    """<values>_theta at each cell of a 2D grid (NaN off the complete orbits).

    Each cell on a complete orbit lies between two shell edges (:func:`nodes`) and
    gives them weights 1 - t and t by its place t between them (tent weights in s:
    smooth, so the lattice of cells does not alias into the average as a hard-edged
    shell would). At each edge, the weighted least-squares line of the values in E;
    at each cell, the blend, with the cell's weights, of its two edges' lines at the
    cell's own energy."""
    values = np.asarray(values, dtype=np.float64)
    energy = np.asarray(energy, dtype=np.float64)
    s, edges, inside = nodes(energy, min_cells)
    n = len(edges)
    e = energy[inside]
    y = values[inside]
    widths = np.diff(edges)
    k = np.clip(np.searchsorted(edges, s[inside], side="right") - 1, 0, n - 2)
    t = np.divide(s[inside] - edges[k], widths[k], out=np.zeros(k.shape),
                  where=widths[k] > 0)
    t = np.clip(t, 0.0, 1.0)
    node = np.concatenate([k, k + 1])
    w = np.concatenate([1.0 - t, t])
    ee = np.concatenate([e, e])
    yy = np.concatenate([y, y])

    def total(weights):
        return np.bincount(node, weights=weights, minlength=n)

    weight = total(w)
    has = weight > 0
    safe = np.where(has, weight, 1.0)
    e_mean = total(w * ee) / safe
    y_mean = total(w * yy) / safe
    de = ee - e_mean[node]
    var = total(w * de * de)
    cov = total(w * de * (yy - y_mean[node]))
    # an edge whose cells share (nearly) one energy has no slope to fit
    scale = np.abs(e).max() if e.size else 0.0
    flat = var <= (1e-12 * scale) ** 2 * safe
    slope = np.divide(cov, var, out=np.zeros(n), where=~flat & has)
    line = y_mean[node] + slope[node] * (ee - e_mean[node])
    out = np.full(values.shape, np.nan)
    out[inside] = np.bincount(np.concatenate([np.arange(e.size)] * 2), weights=w * line,
                              minlength=e.size)
    return out


def contrast(f, energy, delta_f=None, min_cells=DEFAULT_MIN_CELLS):
    """The phase-spiral contrast f / <f>_theta - 1 of 2D grids ``f``, ``energy`` (and
    ``delta_f`` = f - f0, if known), as the module docstring describes; NaN where it
    is undefined (outside complete orbits, or where <f>_theta is 0)."""
    f = np.asarray(f, dtype=np.float64)
    energy = np.asarray(energy, dtype=np.float64)
    if f.shape != energy.shape:
        raise ValueError(f"f {f.shape} and energy {energy.shape} differ in shape")
    with np.errstate(divide="ignore", invalid="ignore"):
        if delta_f is None:
            mean = angle_average(f, energy, min_cells)
            result = f / mean - 1.0
        else:
            delta_f = np.asarray(delta_f, dtype=np.float64)
            if delta_f.shape != f.shape:
                raise ValueError(f"delta_f {delta_f.shape} and f {f.shape} differ in shape")
            mean_delta = angle_average(delta_f, energy, min_cells)
            mean = (f - delta_f) + mean_delta
            result = (delta_f - mean_delta) / mean
    result[~np.isfinite(result)] = np.nan
    return result
