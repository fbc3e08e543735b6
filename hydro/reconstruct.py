"""Reconstruction of primitive variables to the two sides of a cell face.

``face_states`` returns the left and right values of one primitive variable
at the face between cells ``c - 1`` and ``c`` along one axis, reading the
stencil straight from the 4D array ``w[var, k, j, i]`` with index offsets
``(dk, dj, di)``.  One function serves every axis and dimensionality.

Methods (chosen at run time by an integer code, see ``CODES``):
- PCM: piecewise constant, first order (Godunov 1959).
- PLM: piecewise linear with a slope limiter (van Leer 1979): minmod, van Leer
  (harmonic), or monotonised central (MC, van Leer 1977).
- PPM: piecewise parabolic (Colella & Woodward 1984, J. Comput. Phys. 54,
  174; eqs. 1.6-1.10 for the face values and the monotonicity constraints).

Ghost zones needed: 1 for PCM, 2 for PLM, 3 for PPM (``NGHOST``).
"""

import numba

PCM, PLM, PPM = 0, 1, 2
CODES = {"pcm": PCM, "plm": PLM, "ppm": PPM}
NGHOST = {"pcm": 1, "plm": 2, "ppm": 3}

MINMOD, VANLEER, MC = 0, 1, 2
LIMITERS = {"minmod": MINMOD, "vanleer": VANLEER, "mc": MC}


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
def _ppm_face(qm1, q0, qp1, qp2, limiter):
    """Value at the face between q0 and qp1: CW84 eq. 1.6 with limited slopes (eq. 1.7-1.8)."""
    d0 = limited_slope(q0 - qm1, qp1 - q0, limiter)
    d1 = limited_slope(qp1 - q0, qp2 - qp1, limiter)
    return q0 + 0.5 * (qp1 - q0) - (d1 - d0) / 6.0


@numba.njit(inline="always")
def _ppm_monotonise(am, q, ap):
    """CW84 eq. 1.10: make the parabola (am, q, ap) monotone in the cell."""
    if (ap - q) * (q - am) <= 0.0:
        return q, q
    da = ap - am
    q6 = 6.0 * (q - 0.5 * (am + ap))
    if da * q6 > da * da:
        am = 3.0 * q - 2.0 * ap
    elif -da * da > da * q6:
        ap = 3.0 * q - 2.0 * am
    return am, ap


@numba.njit(inline="always")
def face_states(w, v, k, j, i, dk, dj, di, method, limiter):
    """Left and right states of variable v at the face on the low side of cell (k, j, i)."""
    qm1 = w[v, k - dk, j - dj, i - di]
    q0 = w[v, k, j, i]
    if method == PCM:
        return qm1, q0
    qm2 = w[v, k - 2 * dk, j - 2 * dj, i - 2 * di]
    qp1 = w[v, k + dk, j + dj, i + di]
    if method == PLM:
        return (qm1 + 0.5 * limited_slope(qm1 - qm2, q0 - qm1, limiter),
                q0 - 0.5 * limited_slope(q0 - qm1, qp1 - q0, limiter))
    qm3 = w[v, k - 3 * dk, j - 3 * dj, i - 3 * di]
    qp2 = w[v, k + 2 * dk, j + 2 * dj, i + 2 * di]
    a_m32 = _ppm_face(qm3, qm2, qm1, q0, limiter)  # face i-3/2
    a_m12 = _ppm_face(qm2, qm1, q0, qp1, limiter)  # face i-1/2 (this face)
    a_p12 = _ppm_face(qm1, q0, qp1, qp2, limiter)  # face i+1/2
    _, left = _ppm_monotonise(a_m32, qm1, a_m12)
    right, _ = _ppm_monotonise(a_m12, q0, a_p12)
    return left, right
