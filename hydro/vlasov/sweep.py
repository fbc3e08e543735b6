"""One sweep of the phase-space solver: conservative 1D advection of q along every
line of a 2D array, each line with its own constant speed, by flux-form
semi-Lagrangian transport (Lin & Rood 1996, Mon. Wea. Rev. 124, 2046, sec. 3;
Colella & Woodward 1984, "CW84", eq. 1.12, for the parabola's integrals).

Why this form: the z-drift moves each row (fixed v) at the speed v, the v-kick
each column (fixed z) at the acceleration a(z), so the speed is constant along
a line.  Then the mass crossing a face during the step is that of the ``n``
whole cells upwind of it plus a fraction ``alpha`` of the next, where
``n + alpha = |c| dt / dx`` is the shift in cells; the whole cells telescope out
of the flux difference, and a cell's new average is

    q_new[i] = q[i - n] - (P[i - n] - P[i - n - 1])        (c > 0)

with P[m] the mass in the downwind fraction alpha of cell m under its
reconstruction: an exact shift by n cells and a finite-volume step of Courant
number alpha < 1.  The step is therefore not bound by the Courant number of the
fastest line, mass is conserved to round-off, and a line moving at -c is
computed as the mirror image of one moving at +c (the same operations in the
same order on the mirrored data), so mirror-symmetric data stay symmetric.

Reconstruction: PPM with the extremum-preserving limiter of Colella & Sekora
2008 (``hydro.core.reconstruct``: a smooth extremum keeps its parabola), and a
lower bound per cell (the phase-space density f = f0 + delta f must not go
below zero): a parabola that dips below it is scaled towards the cell's mean
(Zhang & Shu 2010, J. Comput. Phys. 229, 3091, eq. 3.4), which keeps the mean,
and so conservation.  A cell's parabola reads two cells on either side, so a
line needs ``floor(max |shift|) + 3`` ghost cells at each end.
"""

import numba
import numpy as np

from hydro.core.reconstruct import ppm_cell, ppm_face
from hydro.core.threads import share

STENCIL = 3  # ghost cells a line needs beyond its largest whole-cell shift
TILE = 16  # columns a v-sweep copies into contiguous lines at a time


@numba.njit(inline="always")
def _bounded(lo, hi, mean, low):
    """The parabola (lo, mean, hi) of a cell scaled about its mean so that its
    minimum over the cell is at least ``low`` (unchanged if it already is)."""
    a6 = 6.0 * (mean - 0.5 * (lo + hi))
    smallest = min(lo, hi)
    if a6 != 0.0:  # the parabola's own extremum, if inside the cell
        x = 0.5 + 0.5 * (hi - lo) / a6
        if 0.0 < x < 1.0:
            smallest = min(smallest, lo + x * ((hi - lo) + a6 * (1.0 - x)))
    if smallest >= low:
        return lo, hi
    if mean <= low:
        return mean, mean
    theta = (mean - low) / (mean - smallest)
    return mean + theta * (lo - mean), mean + theta * (hi - mean)


@numba.njit(inline="always")
def _advect_line(q, low, out, s, ng):
    """Advect the line q (1D, ghosts included) by the shift s (in cells), writing its
    active cells [ng, n - ng) into out; ``low`` bounds each cell's reconstruction."""
    ncells = q.shape[0]
    # march downwind: cells in the mirrored order when the speed is negative
    d = 1 if s >= 0.0 else -1
    base = 0 if s >= 0.0 else ncells - 1
    c = abs(s)
    n = int(c)
    alpha = c - n
    half = 0.5 * alpha
    cubic = 1.0 - (2.0 / 3.0) * alpha
    m = ng - n - 1  # the first source cell: upwind of the first active cell
    qm2 = q[base + d * (m - 2)]
    qm1 = q[base + d * (m - 1)]
    q0 = q[base + d * m]
    qp1 = q[base + d * (m + 1)]
    am = ppm_face(qm2, qm1, q0, qp1)
    previous = 0.0
    for m in range(ng - n - 1, ncells - ng - n):
        qp2 = q[base + d * (m + 2)]
        ap = ppm_face(qm1, q0, qp1, qp2)
        lo, hi = ppm_cell(qm2, qm1, q0, qp1, qp2, am, ap)
        lo, hi = _bounded(lo, hi, q0, low[base + d * m])
        # the mass in the downwind fraction alpha of the cell (CW84 eq. 1.12)
        flux = alpha * (hi - half * ((hi - lo) - cubic * 6.0 * (q0 - 0.5 * (lo + hi))))
        if m >= ng - n:
            out[base + d * (m + n)] = q0 - (flux - previous)
        previous = flux
        am = ap
        qm2, qm1, q0, qp1 = qm1, q0, qp1, qp2


@numba.njit(cache=True, nogil=True, error_model="numpy")
def advect_rows(q, low, out, speeds, factor, first, last, ng, part, parts):
    """Advect rows ``first`` to ``last`` (exclusive) of ``q[row, cell]`` by the shifts
    ``speeds[row] * factor`` (in cells) into ``out``; ``low`` the lower bounds.  The
    rows are shared among ``parts`` threads."""
    start, stop = share(last - first, part, parts)
    for row in range(first + start, first + stop):
        _advect_line(q[row], low[row], out[row], speeds[row] * factor, ng)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def advect_columns(q, low, out, speeds, factor, first, last, ng, part, parts):
    """Advect columns ``first`` to ``last`` (exclusive) of ``q[cell, column]`` by the
    shifts ``speeds[column] * factor`` into ``out``.  Columns are copied in tiles of
    ``TILE`` into contiguous lines and back: a strided column read one value per cache
    line, three times slower.  The tiles are shared among ``parts`` threads."""
    ncells = q.shape[0]
    lines = np.empty((TILE, ncells))
    bounds = np.empty((TILE, ncells))
    results = np.empty((TILE, ncells))
    ntiles = (last - first + TILE - 1) // TILE
    start, stop = share(ntiles, part, parts)
    for tile in range(start, stop):
        c0 = first + tile * TILE
        width = min(TILE, last - c0)
        for k in range(ncells):
            for c in range(width):
                lines[c, k] = q[k, c0 + c]
                bounds[c, k] = low[k, c0 + c]
        for c in range(width):
            _advect_line(lines[c], bounds[c], results[c], speeds[c0 + c] * factor, ng)
        for k in range(ng, ncells - ng):
            for c in range(width):
                out[k, c0 + c] = results[c, k]
