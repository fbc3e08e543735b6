"""f >= 0 after each step: the few cells where f = f0 + delta f came out negative
take what they lack from their positive neighbours, conserving mass.

Why a step can leave f < 0 although every sweep bounds its reconstruction by
f >= 0: the sweeps move delta f and leave f0 where it is, and a single split
sweep does not keep f0 (only the whole Strang step does, to O(dt^3)).  Where f0
falls steeply and f is nearly empty (a strong kick's wake in the tail of f0),
the truncation error of delta f can exceed the small f there: for a kick of
0.75 sigma on 64^2, up to 1.2e-5 of the peak of f.  Moving f0 with the sweeps
would keep f >= 0 but lose the exact steadiness of the unperturbed disk, so the
deficit is made up afterwards, locally first:

    a cell c with f_c < 0 takes d_c = -f_c from the positive cells p among its 8
    neighbours in proportion to f_p: p gives d_c f_p / S_c, S_c = sum of those
    f_p; a donor asked for more than it holds (lambda_p = sum over its negative
    neighbours of d_c / S_c > 1) gives f_p, shared in the same proportions.

Each transfer is counted once on either side, so the mass changes by round-off
only; a cell that is filled in full, or a donor that is emptied, is set to
f = 0 exactly.  Where the neighbours hold less than the deficit (a patch of
negative cells, or one along an outflow face, where the cells beyond are not
ours to take from) the cell is set to f = 0 and what that added is taken back
from every positive cell of the grid in proportion to f (the caller's exact
global sums): at most 3.4e-10 of the mass in a step of that kick (more passes
of the neighbour rule do not lower it: emptied donors stop the next pass).  A
cell's new value reads the cells up to 3 away, so it is the same on any
decomposition whose ghosts hold the step's result: "real" ghosts (a
neighbouring block's, or periodic images) take part, the ones beyond the
domain's faces do not.  Nothing changes anywhere if no cell is negative, which
keeps the unperturbed disk, the 1 km/s kicks and every f0 = 0 problem bit for
bit as the sweeps leave them.
"""

import numba
import numpy as np

REACH = 3  # cells from an active cell whose values its correction reads


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fill_from_neighbours(d, f0, real, region):
    """The cells of ``region`` (row0, row1, col0, col1): delta f ``d`` updated in
    place, reading f = f0 + d up to 3 cells beyond the region."""
    r0, r1, c0, c1 = real
    g0, g1, h0, h1 = region
    f = np.zeros(d.shape)
    for j in range(max(r0, g0 - 3), min(r1, g1 + 3)):
        for i in range(max(c0, h0 - 3), min(c1, h1 + 3)):
            f[j, i] = f0[j, i] + d[j, i]
    # S_c of the negative cells within 2 of the region, then lambda_p of their positive
    # neighbours (summed in the cells' row-major order on any decomposition)
    share = np.zeros(d.shape)
    asked = np.zeros(d.shape)
    for j in range(max(r0, g0 - 2), min(r1, g1 + 2)):
        for i in range(max(c0, h0 - 2), min(c1, h1 + 2)):
            if f[j, i] < 0.0:
                for jj in range(max(r0, j - 1), min(r1, j + 2)):
                    for ii in range(max(c0, i - 1), min(c1, i + 2)):
                        if f[jj, ii] > 0.0:
                            share[j, i] += f[jj, ii]
                for jj in range(max(r0, j - 1), min(r1, j + 2)):
                    for ii in range(max(c0, i - 1), min(c1, i + 2)):
                        if f[jj, ii] > 0.0:
                            asked[jj, ii] += -f[j, i] / share[j, i]
    for j in range(g0, g1):
        for i in range(h0, h1):
            if f[j, i] < 0.0:
                full = share[j, i] > 0.0
                gain = 0.0
                for jj in range(max(r0, j - 1), min(r1, j + 2)):
                    for ii in range(max(c0, i - 1), min(c1, i + 2)):
                        if f[jj, ii] > 0.0:
                            scale = 1.0 if asked[jj, ii] <= 1.0 else 1.0 / asked[jj, ii]
                            full = full and asked[jj, ii] <= 1.0
                            gain += -f[j, i] * f[jj, ii] / share[j, i] * scale
                d[j, i] = -f0[j, i] if full else d[j, i] + gain
            elif asked[j, i] >= 1.0:
                d[j, i] = -f0[j, i]
            elif asked[j, i] > 0.0:
                d[j, i] = d[j, i] - f[j, i] * asked[j, i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def fill_negatives(delta, f0, out, added, real, active):
    """Make up negative f = f0 + delta (both with ghosts) on the active cells of
    ``out`` (delta f, written in place) from their neighbours, then set what is still
    negative to f = 0, writing what that added to each active cell into ``added``
    (the caller takes it back from the positive cells): ``real`` = (row0, row1,
    col0, col1) the cells that exist, ``active`` the same for the active cells.
    Returns the number of cells set to 0 last."""
    r0, r1, c0, c1 = real
    a0, a1, b0, b1 = active
    found = False
    for j in range(max(r0, a0 - REACH), min(r1, a1 + REACH)):
        for i in range(max(c0, b0 - REACH), min(c1, b1 + REACH)):
            if delta[j, i] + f0[j, i] < 0.0:
                found = True
    if not found:
        return 0
    d = delta.copy()
    _fill_from_neighbours(d, f0, real, active)
    clamped = 0
    for j in range(a0, a1):
        for i in range(b0, b1):
            if f0[j, i] + d[j, i] < 0.0:
                clamped += 1
                added[j - a0, i - b0] = -(f0[j, i] + d[j, i])
                d[j, i] = -f0[j, i]
            out[j, i] = d[j, i]
    return clamped


@numba.njit(cache=True, nogil=True, error_model="numpy")
def count_negative(delta, f0, active):
    """The number of active cells with f = f0 + delta < 0."""
    a0, a1, b0, b1 = active
    count = 0
    for j in range(a0, a1):
        for i in range(b0, b1):
            if f0[j, i] + delta[j, i] < 0.0:
                count += 1
    return count


@numba.njit(cache=True, nogil=True, error_model="numpy")
def take_from_positive(out, f0, active, fraction):
    """f -> (1 - fraction) f on the active cells of positive f (delta f ``out`` in
    place): how the mass that ``fill_negatives`` added on some rank is taken back."""
    a0, a1, b0, b1 = active
    for j in range(a0, a1):
        for i in range(b0, b1):
            f = f0[j, i] + out[j, i]
            if f > 0.0:
                out[j, i] = f * (1.0 - fraction) - f0[j, i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def positive_part(out, f0, active):
    """max(f, 0) on the active cells (for the exact global sum of the positive mass)."""
    a0, a1, b0, b1 = active
    result = np.empty((a1 - a0, b1 - b0))
    for j in range(a0, a1):
        for i in range(b0, b1):
            result[j - a0, i - b0] = max(f0[j, i] + out[j, i], 0.0)
    return result
