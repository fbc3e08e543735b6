"""Reconstruction of primitive variables to the two sides of a cell face.

``cell_edges`` returns the values of one primitive variable at the two faces
of a cell along one axis, reading the stencil straight from the 4D array
``w[var, k, j, i]`` with index offsets ``(dk, dj, di)``.  One function serves
every axis and dimensionality.

Methods (chosen at run time by an integer code, see ``CODES``; the flux
kernel is compiled for one at a time):
- PCM: piecewise constant, first order (Godunov 1959).
- PLM: piecewise linear with a slope limiter (van Leer 1979): minmod, van Leer
  (harmonic), or monotonised central (MC, van Leer 1977), except where the
  profile is smooth (``plm_slope``).
- PPM: piecewise parabolic (Colella & Woodward 1984, J. Comput. Phys. 54,
  174, "CW84"), with the extremum-preserving limiter of Colella & Sekora 2008
  (J. Comput. Phys. 227, 7069, "CS08") in place of CW84's clipping of extrema.

Both keep smooth extrema, so that smooth flows converge at second order from
coarse grids on, with every integrator (tests/test_linear_wave.py: plain TVD
clipping of every extremum gave orders of 1.3-1.8 from 32 to 128 cells).
"Smooth" is a strict test (``_smooth``): three consecutive second differences
of one sign agreeing within a factor C_SMOOTH.  A looser test (CS08's scaling
alone) let under-resolved near-vacuum blasts run into the floors.
The method-of-lines form (no characteristic tracing) is used for all.

Ghost zones needed: 1 for PCM, 3 for PLM and PPM (``NGHOST``): the smooth-
extremum tests read the second differences of the neighbours.
"""

import numba
from numba import errors, types
from numba.extending import overload

PCM, PLM, PPM = 0, 1, 2
CODES = {"pcm": PCM, "plm": PLM, "ppm": PPM}
NGHOST = {"pcm": 1, "plm": 3, "ppm": 3}

MINMOD, VANLEER, MC = 0, 1, 2
LIMITERS = {"minmod": MINMOD, "vanleer": VANLEER, "mc": MC}
C_CURVATURE = 1.25  # CS08's bound on curvature ratios at smooth extrema
C_SMOOTH = 1.5  # largest ratio of neighbouring curvatures still called smooth


@numba.njit(inline="always")
def limited_slope(dl, dr, limiter):
    """Limited cell slope from the left and right differences dl, dr.

    minmod: sign * min(|dl|, |dr|);  van Leer: 2 dl dr / (dl + dr);
    MC: sign * min(2|dl|, 2|dr|, |dl + dr|/2).  All vanish at extrema (dl dr <= 0).
    """
    if dl * dr <= 0.0:
        return 0.0
    if limiter == MC:
        s = 1.0 if dl > 0.0 else -1.0
        return s * min(2.0 * abs(dl), 2.0 * abs(dr), 0.5 * abs(dl + dr))
    if limiter == VANLEER:
        return 2.0 * dl * dr / (dl + dr)
    return dl if abs(dl) < abs(dr) else dr


@numba.njit(inline="always")
def _smooth(d2m, d2, d2p):
    """True where three consecutive second differences share a sign and agree within
    a factor C_SMOOTH: a resolved, smooth profile (no discontinuity, no kink).

    Evaluated whole (``&``, not ``and``): where the signs flip from cell to cell,
    in a noisy flow, branches on them would be mispredicted half the time."""
    a, b, c = abs(d2m), abs(d2), abs(d2p)
    return (not d2 * d2m <= 0.0) & (not d2 * d2p <= 0.0) & \
        (max(a, b, c) <= C_SMOOTH * min(a, b, c))


@numba.njit(inline="always")
def plm_slope(qm2, qm1, q0, qp1, qp2, limiter):
    """Slope of the middle cell: the central slope where the profile is smooth,
    the limited slope elsewhere.

    TVD limiters clip every extremum and steep gradient next to it, smooth or
    not, which costs accuracy at the crests of a wave.  Where the cell and its
    two neighbours have second differences of one sign and nearly equal size
    (in the spirit of the curvature test of Colella & Sekora 2008), the data
    are a resolved smooth profile and the unlimited central slope is kept; at
    a discontinuity or a kink the second differences change sign or jump, and
    the limiter acts.
    """
    dl = q0 - qm1
    dr = qp1 - q0
    slope = limited_slope(dl, dr, limiter)
    central = 0.5 * (dl + dr)
    if slope == central:
        return slope
    d2 = dr - dl
    d2m = dl - (qm1 - qm2)
    d2p = (qp2 - qp1) - dr
    return central if _smooth(d2m, d2, d2p) else slope


@numba.njit(inline="always")
def _same_sign_min(a, b, c, d):
    """sign * min(|a|, |b|, |c|, |d|) if all share a sign, else 0 (CS08)."""
    if a > 0.0 and b > 0.0 and c > 0.0 and d > 0.0:
        return min(a, b, c, d)
    if a < 0.0 and b < 0.0 and c < 0.0 and d < 0.0:
        return max(a, b, c, d)
    return 0.0


@numba.njit(inline="always")
def ppm_face(qm1, q0, qp1, qp2):
    """Value at the face between q0 and qp1: the fourth-order interpolant (CW84
    sec. 1; CS08 sec. 2), limited into [q0, qp1] by the curvature test of CS08."""
    a = (7.0 * (q0 + qp1) - (qm1 + qp2)) * (1.0 / 12.0)
    if (qp1 - a) * (a - q0) < 0.0:
        d2l = qm1 - 2.0 * q0 + qp1
        d2r = q0 - 2.0 * qp1 + qp2
        d2 = _same_sign_min(3.0 * (q0 - 2.0 * a + qp1), C_CURVATURE * d2l,
                            C_CURVATURE * d2r, C_CURVATURE * d2r)
        a = 0.5 * (q0 + qp1) - d2 / 6.0
    return a


@numba.njit(inline="always")
def ppm_cell(qm2, qm1, q0, qp1, qp2, am, ap):
    """Limit the parabola (am, q0, ap) of the middle cell.

    At an extremum (of the parabola or of the cell averages) a smooth profile
    (``_smooth``) keeps its parabola, with the curvature bounded by the
    neighbours' as in CS08 sec. 2; any other extremum is flattened (CW84).
    Elsewhere the parabola is kept monotone as in CW84 eq. 1.10.
    """
    if (ap - q0) * (q0 - am) <= 0.0 or (qp1 - q0) * (q0 - qm1) <= 0.0:
        curvature = am + ap - 2.0 * q0
        if curvature == 0.0:  # (before the factor 6: one operation less on flat data)
            return q0, q0
        d2 = 6.0 * curvature
        d2l = qm2 - 2.0 * qm1 + q0
        d2c = qm1 - 2.0 * q0 + qp1
        d2r = q0 - 2.0 * qp1 + qp2
        if not _smooth(d2l, d2c, d2r):
            return q0, q0
        d2lim = _same_sign_min(d2, C_CURVATURE * d2l, C_CURVATURE * d2c, C_CURVATURE * d2r)
        return q0 + (am - q0) * d2lim / d2, q0 + (ap - q0) * d2lim / d2
    if abs(ap - q0) >= 2.0 * abs(am - q0):
        ap = q0 - 2.0 * (am - q0)
    if abs(am - q0) >= 2.0 * abs(ap - q0):
        am = q0 - 2.0 * (ap - q0)
    return am, ap


def cell_edges(w, v, k, j, i, dk, dj, di, method, limiter, am):
    """Values of variable v at the low and high faces of cell (k, j, i) along the
    axis of the index offsets (dk, dj, di), and a value to carry to the next cell.

    The left state at a face is the high edge of the cell below it, the right
    state the low edge of the cell above it; the flux kernel carries each
    cell's high edge on to the next face, so every cell is reconstructed once.
    PPM also carries the interpolated value at the face (third value returned),
    which is the next cell's ``am``; pass None where it is not known (a choice
    made when compiling, not a test per cell).
    ``method`` must be a compile-time constant in numba code: only its code is
    compiled into the caller.
    """


@numba.njit(inline="always")
def _stencil(w, v, k, j, i, dk, dj, di):
    """The five values of variable v centred on cell (k, j, i) along the axis of the
    index offsets (dk, dj, di).

    The indices are cast to unsigned integers (the stencil stays inside the ghost
    zones, never below index 0), so that numba skips the wrap-around of negative
    indices: a few instructions per load, which were a twentieth of a PLM pass."""
    s = numba.uint64
    return (w[s(v), s(k - 2 * dk), s(j - 2 * dj), s(i - 2 * di)],
            w[s(v), s(k - dk), s(j - dj), s(i - di)],
            w[s(v), s(k), s(j), s(i)],
            w[s(v), s(k + dk), s(j + dj), s(i + di)],
            w[s(v), s(k + 2 * dk), s(j + 2 * dj), s(i + 2 * di)])


@numba.njit(inline="always")
def _ppm_parabola(qm2, qm1, q0, qp1, qp2, am):
    """The limited edges of the middle cell and the interpolated value at its high face."""
    ap = ppm_face(qm1, q0, qp1, qp2)
    lo, hi = ppm_cell(qm2, qm1, q0, qp1, qp2, am, ap)
    return lo, hi, ap


def _pcm_edges(w, v, k, j, i, dk, dj, di, method, limiter, am):
    return w[v, k, j, i], w[v, k, j, i], 0.0


def _plm_edges(w, v, k, j, i, dk, dj, di, method, limiter, am):
    qm2, qm1, q0, qp1, qp2 = _stencil(w, v, k, j, i, dk, dj, di)
    slope = plm_slope(qm2, qm1, q0, qp1, qp2, limiter)
    return q0 - 0.5 * slope, q0 + 0.5 * slope, 0.0


def _ppm_edges(w, v, k, j, i, dk, dj, di, method, limiter, am):
    qm2, qm1, q0, qp1, qp2 = _stencil(w, v, k, j, i, dk, dj, di)
    return _ppm_parabola(qm2, qm1, q0, qp1, qp2, am)


def _ppm_edges_alone(w, v, k, j, i, dk, dj, di, method, limiter, am):
    qm2, qm1, q0, qp1, qp2 = _stencil(w, v, k, j, i, dk, dj, di)
    return _ppm_parabola(qm2, qm1, q0, qp1, qp2, ppm_face(qm2, qm1, q0, qp1))


@overload(cell_edges, prefer_literal=True,
          jit_options={"forceinline": True, "error_model": "numpy"})
def _cell_edges(w, v, k, j, i, dk, dj, di, method, limiter, am):
    if not isinstance(method, types.IntegerLiteral):
        raise errors.TypingError("cell_edges: the method must be a compile-time constant")
    ppm = _ppm_edges_alone if isinstance(am, types.NoneType) else _ppm_edges
    return {PCM: _pcm_edges, PLM: _plm_edges, PPM: ppm}[method.literal_value]
