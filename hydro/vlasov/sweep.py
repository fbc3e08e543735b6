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
bound: the phase-space density f = f0 + delta f must not go below zero, so
where delta f's parabola plus f0's (the same PPM of f0's cell averages,
computed once) dips below zero on a cell, that sum is scaled towards its mean
(Zhang & Shu 2010, J. Comput. Phys. 229, 3091, eq. 3.4), which keeps the mean,
and so conservation.  The bound is f0's parabola and not its mean: in the tail
of f0, which falls by a factor of e across a few cells, a delta f close to -f0
(a region the kick emptied) is a correct profile that a floor at -mean(f0)
would clip; on 64^2 (a kick of 0.75 sigma) that clipping made the error 24%
larger and left f < 0 on two fifths of the grid.  A cell's parabola reads two
cells on either side, so a line needs ``floor(max |shift|) + 3`` ghost cells at
each end.

Velocity filter (before the v-sweep, ``filter_columns``): where the potential
does not shear the grid in v (free streaming above all) the z-drift moves each
row at its own cell-centre speed, a discrete-velocity method, and a density
mode of wavenumber k comes back in full at T_R = 2 pi / (k dv) (recurrence:
Karp & Miller 1974; Cheng & Knorr 1976, J. Comput. Phys. 22, 330, sec. 4), once
its filaments in v have passed the grid scale.  A filament that fine is no longer resolved
information, so a filter removes it before the v-sweep (filamentation
filtration, Klimas & Farrell 1994, J. Comput. Phys. 110, 150):

    q_new = q - s (-1)^p (delta^2 / 4)^p q,    transfer 1 - s sin^(2p)(theta/2),

theta = kappa dv the wavenumber in v in radians per cell, p = ``FILTER_ORDER``
and s the run file's ``vlasov.filter`` (1 removes the 2 dv mode at once).  A
mode of ten cells per wavelength keeps all but 8e-7 of itself each time, one of
six cells all but 2.4e-4.  It is applied at a fixed interval of time, in each
step that crosses a multiple of ``filter_interval`` = dz / (2 pi dv), and not
every step, so that its action does not grow as the step shrinks: a filament's
phase in v advances at most at pi dv / dz per unit time (the drift of a
z-structure at the grid scale), so between two applications by half a radian,
and none can cross the band where the filter acts (sin^12(theta/2) > 1/2 over
1.8 radians around theta = pi) without meeting it three times.  The filter is
written as face fluxes, so it conserves mass; each cell's outgoing
fluxes are scaled so that it keeps f >= 0 (Zalesak 1979, J. Comput. Phys. 31,
335, the donor limit); a filtered value reads ``FILTER_REACH`` cells on either
side.
"""

import math

import numba
import numpy as np

from hydro.core.reconstruct import ppm_cell, ppm_face
from hydro.core.threads import share

STENCIL = 3  # ghost cells a line needs beyond its largest whole-cell shift
TILE = 16  # columns a v-sweep copies into contiguous lines at a time
FILTER_ORDER = 6  # p of the filter's transfer function 1 - s sin^(2p)(theta/2)
FILTER_REACH = FILTER_ORDER + 1  # the face fluxes' reach, and one cell for the donor limit
# the flux of (-1)^p (delta^2 / 4)^p through face i + 1/2, as weights of the
# differences q[i + 1 + k] - q[i - k] (the 2p - 1'th difference, taken in pairs so
# that mirrored data give exactly the opposite flux)
FILTER_WEIGHTS = np.array([(-1) ** (k + 1) * math.comb(2 * FILTER_ORDER - 1, FILTER_ORDER - 1 - k)
                           for k in range(FILTER_ORDER)]) / 4.0 ** FILTER_ORDER
# the donor limit scales a cell's outflow to a hair below its content, so that the
# rounding of the scaled fluxes cannot take f below zero
DONOR_SHORT = 1.0 - 2.0 ** -48


def filter_interval(dz, dv):
    """The time between two applications of the velocity filter on a grid of cells
    dz x dv: half a radian of the fastest growth of a filament's phase in v."""
    return dz / (2.0 * math.pi * dv)


@numba.njit(inline="always")
def _smallest(lo, hi, mean):
    """The minimum over a cell of the parabola (lo, mean, hi) (CW84 eq. 1.5)."""
    a6 = 6.0 * (mean - 0.5 * (lo + hi))
    smallest = min(lo, hi)
    if a6 != 0.0:  # the parabola's own extremum, if inside the cell
        x = 0.5 + 0.5 * (hi - lo) / a6
        if 0.0 < x < 1.0:
            smallest = min(smallest, lo + x * ((hi - lo) + a6 * (1.0 - x)))
    return smallest


@numba.njit(inline="always")
def _bounded(lo, hi, mean, lo0, hi0, mean0):
    """The parabola (lo, mean, hi) of delta f on a cell, changed as little as needed
    for f = delta f + f0 to be >= 0 on the cell, with f0 the parabola (lo0, mean0,
    hi0): f's parabola scaled about its mean (ZS10 eq. 3.4), which keeps the mean.
    A parabola already >= 0 is returned unchanged, and so is one whose mean is
    below zero: not a reconstruction's undershoot but a split sweep's passing
    state (the half drift moves delta f = -f0 of an emptied tail onto smaller f0;
    the kick and the second half drift take it back), which flattening would
    keep from being taken back."""
    lo_f, hi_f, mean_f = lo + lo0, hi + hi0, mean + mean0
    if mean_f < 0.0:
        return lo, hi
    smallest = _smallest(lo_f, hi_f, mean_f)
    if smallest >= 0.0:
        return lo, hi
    theta = mean_f / (mean_f - smallest)
    return (mean_f + theta * (lo_f - mean_f) - lo0, mean_f + theta * (hi_f - mean_f) - hi0)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def f0_parabolas(f0, speeds):
    """The parabolas of f0 along each row of its cell averages ``f0`` (>= 0), the
    bound's half of the sweeps: (-min, lo, hi), minus the minimum over the cell and
    the face values (with the cell averages, the ``bound`` of the sweeps).  PPM as
    the sweeps do it, in the order of their march (mirrored where ``speeds`` of the
    row is negative, so that mirrored rows get mirrored bits); flat where that would
    dip below zero and in the two cells at either end (no stencil; never a source)."""
    lo, hi, low = f0.copy(), f0.copy(), -f0
    ncells = f0.shape[1]
    for r in range(f0.shape[0]):
        q = f0[r]
        d = 1 if speeds[r] >= 0.0 else -1
        base = 0 if speeds[r] >= 0.0 else ncells - 1
        for m in range(2, ncells - 2):
            qm2, qm1, q0 = q[base + d * (m - 2)], q[base + d * (m - 1)], q[base + d * m]
            qp1, qp2 = q[base + d * (m + 1)], q[base + d * (m + 2)]
            am = ppm_face(qm2, qm1, q0, qp1)
            ap = ppm_face(qm1, q0, qp1, qp2)
            a, b = ppm_cell(qm2, qm1, q0, qp1, qp2, am, ap)
            smallest = _smallest(a, b, q0)
            if smallest >= 0.0:
                k = base + d * m
                lo[r, k], hi[r, k] = (a, b) if d > 0 else (b, a)
                low[r, k] = -smallest
    return low, lo, hi


@numba.njit(inline="always")
def _advect_line(q, low, lo0, hi0, f0, out, s, ng):
    """Advect the line q (1D, ghosts included) by the shift s (in cells), writing its
    active cells [ng, n - ng) into out; f0's parabolas (``lo0``, ``f0``, ``hi0``) bound
    each cell's reconstruction, and ``low`` (minus their minima) tells the cells
    that surely keep f >= 0."""
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
        k = base + d * m
        if _smallest(lo, hi, q0) < low[k]:  # f0's faces in the order of the march
            if d > 0:
                lo, hi = _bounded(lo, hi, q0, lo0[k], hi0[k], f0[k])
            else:
                lo, hi = _bounded(lo, hi, q0, hi0[k], lo0[k], f0[k])
        # the mass in the downwind fraction alpha of the cell (CW84 eq. 1.12)
        flux = alpha * (hi - half * ((hi - lo) - cubic * 6.0 * (q0 - 0.5 * (lo + hi))))
        if m >= ng - n:
            out[base + d * (m + n)] = q0 - (flux - previous)
        previous = flux
        am = ap
        qm2, qm1, q0, qp1 = qm1, q0, qp1, qp2


@numba.njit(cache=True, nogil=True, error_model="numpy")
def filter_columns(q, f0, out, strength, real, first, last, part, parts):
    """The velocity filter along the columns (v) of ``q[cell, column]``, columns
    ``first`` to ``last`` (exclusive), into ``out``: the cells [FILTER_REACH,
    n - FILTER_REACH) of each column (a filtered value reads ``FILTER_REACH`` cells
    either side), f = f0 + q >= 0 kept; only the cells [real[0], real[1]) of a
    column exist (the others are ghosts beyond the domain: no flux whose stencil
    reaches them, so that nothing leaves through a face of the domain but what the
    advection moves).  Row by row, the fluxes and the donor limits of the last four
    rows kept (the inner loops run along contiguous memory); the columns are shared
    among ``parts`` threads."""
    ncells = q.shape[0]
    lo, hi = FILTER_REACH, ncells - FILTER_REACH
    face_lo, face_hi = real[0] + FILTER_ORDER - 1, real[1] - FILTER_ORDER
    start, stop = share(last - first, part, parts)
    c0, width = first + start, stop - start
    flux = np.zeros((4, width))  # flux[j % 4]: through the face between rows j and j + 1
    ratio = np.ones((4, width))  # the donor limit of row j % 4
    limited = np.zeros(4, dtype=np.bool_)  # whether any of row j % 4 is below 1
    if width > 0:
        for j in range(lo - 2, hi + 3):
            if j <= hi:  # the face above row j; none where its stencil leaves the domain
                f = flux[j % 4]
                f[:] = 0.0
                if face_lo <= j < face_hi:
                    for k in range(FILTER_ORDER):
                        weight = strength * FILTER_WEIGHTS[k]
                        for c in range(width):
                            f[c] += weight * (q[j + 1 + k, c0 + c] - q[j - k, c0 + c])
            m = j - 1  # row m's outgoing fluxes scaled to leave it f >= 0 (if need be)
            if lo - 1 <= m <= hi:
                up, down, r = flux[m % 4], flux[(m - 1) % 4], ratio[m % 4]
                limited[m % 4] = False
                for c in range(width):
                    content = q[m, c0 + c] + f0[m, c0 + c]
                    leaving = max(up[c], 0.0) - min(down[c], 0.0)
                    if leaving <= content or leaving == 0.0:
                        r[c] = 1.0
                    else:
                        r[c] = max(content, 0.0) / leaving * DONOR_SHORT
                        limited[m % 4] = True
            i = j - 2  # row i, its limits and those of its neighbours known
            if lo <= i < hi:
                up, down = flux[i % 4], flux[(i - 1) % 4]
                if limited[(i - 1) % 4] or limited[i % 4] or limited[(i + 1) % 4]:
                    below, here, above = ratio[(i - 1) % 4], ratio[i % 4], ratio[(i + 1) % 4]
                    for c in range(width):
                        right = up[c] * (here[c] if up[c] > 0.0 else above[c])
                        left = down[c] * (below[c] if down[c] > 0.0 else here[c])
                        out[i, c0 + c] = q[i, c0 + c] - (right - left)
                else:
                    for c in range(width):
                        out[i, c0 + c] = q[i, c0 + c] - (up[c] - down[c])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def advect_rows(q, bound, out, speeds, factor, first, last, ng, part, parts):
    """Advect rows ``first`` to ``last`` (exclusive) of ``q[row, cell]`` by the shifts
    ``speeds[row] * factor`` (in cells) into ``out``; ``bound`` = (low, lo0, hi0, f0),
    f0's parabolas along the rows (``f0_parabolas``) and its cell averages.  The rows
    are shared among ``parts`` threads."""
    low, lo0, hi0, f0 = bound
    start, stop = share(last - first, part, parts)
    for row in range(first + start, first + stop):
        _advect_line(q[row], low[row], lo0[row], hi0[row], f0[row], out[row],
                     speeds[row] * factor, ng)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def advect_columns(q, bound, out, speeds, factor, first, last, ng, part, parts):
    """Advect columns ``first`` to ``last`` (exclusive) of ``q[cell, column]`` by the
    shifts ``speeds[column] * factor`` into ``out``; ``bound`` as for ``advect_rows``,
    f0's parabolas along the columns.  Columns are copied in tiles of ``TILE`` into
    contiguous lines and back (a strided column read one value per cache line, three
    times slower), with the bound's ``low``, read in every cell; the rest of the
    bound, read only where delta f comes close to -f0, is read in place.  The tiles
    are shared among ``parts`` threads."""
    low, lo0, hi0, f0 = bound
    ncells = q.shape[0]
    lines = np.empty((TILE, ncells))
    lows = np.empty((TILE, ncells))
    results = np.empty((TILE, ncells))
    ntiles = (last - first + TILE - 1) // TILE
    start, stop = share(ntiles, part, parts)
    for tile in range(start, stop):
        c0 = first + tile * TILE
        width = min(TILE, last - c0)
        for k in range(ncells):
            for c in range(width):
                lines[c, k] = q[k, c0 + c]
                lows[c, k] = low[k, c0 + c]
        for c in range(width):
            _advect_line(lines[c], lows[c], lo0[:, c0 + c], hi0[:, c0 + c], f0[:, c0 + c],
                         results[c], speeds[c0 + c] * factor, ng)
        for k in range(ng, ncells - ng):
            for c in range(width):
                out[k, c0 + c] = results[c, k]
