"""Riemann solvers for the Euler equations of an ideal gas.

Each solver takes the left and right primitive states at a face, rotated so
that ``vn`` is the velocity normal to the face and ``vt1``, ``vt2`` the two
transverse components, and returns the five fluxes

    (rho vn,  rho vn^2 + p,  rho vn vt1,  rho vn vt2,  (E + p) vn).

They are numba functions compiled into the flux kernel, so a face costs no
call.  A run names its solver by an integer code (``CODES``), and ``flux``
compiles only that solver into the kernel (``euler.flux_kernel``).

References
----------
Toro, E. F. 2009, *Riemann Solvers and Numerical Methods for Fluid Dynamics*,
3rd ed. (Springer), chapters 4 (exact solver) and 10 (HLL-type solvers).
Toro, Spruce & Speares 1994, Shock Waves 4, 25 (HLLC).
Einfeldt 1988, SIAM J. Numer. Anal. 25, 294 (HLLE wave speeds).
"""

import math

import numba
from numba import errors, types
from numba.extending import overload
import numpy as np

LLF, HLLE, HLLC, EXACT = 0, 1, 2, 3
CODES = {"llf": LLF, "hlle": HLLE, "hllc": HLLC, "exact": EXACT}


@numba.njit(inline="always")
def _physical_flux(rho, vn, vt1, vt2, p, gamma):
    """Flux of the conserved variables along the normal, F(U)."""
    mn = rho * vn
    e = p / (gamma - 1.0) + 0.5 * rho * (vn * vn + vt1 * vt1 + vt2 * vt2)
    return mn, mn * vn + p, mn * vt1, mn * vt2, (e + p) * vn


@numba.njit(inline="always")
def llf(rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma):
    """Local Lax-Friedrichs (Rusanov) flux, Toro eq. 10.55 with S+ = max(|v|+c)."""
    cl = math.sqrt(gamma * pl / rl)
    cr = math.sqrt(gamma * pr / rr)
    s = max(abs(vnl) + cl, abs(vnr) + cr)
    el = pl / (gamma - 1.0) + 0.5 * rl * (vnl * vnl + vt1l * vt1l + vt2l * vt2l)
    er = pr / (gamma - 1.0) + 0.5 * rr * (vnr * vnr + vt1r * vt1r + vt2r * vt2r)
    f0l, f1l, f2l, f3l, f4l = _physical_flux(rl, vnl, vt1l, vt2l, pl, gamma)
    f0r, f1r, f2r, f3r, f4r = _physical_flux(rr, vnr, vt1r, vt2r, pr, gamma)
    return (0.5 * (f0l + f0r - s * (rr - rl)),
            0.5 * (f1l + f1r - s * (rr * vnr - rl * vnl)),
            0.5 * (f2l + f2r - s * (rr * vt1r - rl * vt1l)),
            0.5 * (f3l + f3r - s * (rr * vt2r - rl * vt2l)),
            0.5 * (f4l + f4r - s * (er - el)))


@numba.njit(inline="always")
def hlle(rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma):
    """HLLE flux (Toro eq. 10.21) with Einfeldt's wave speeds from Roe averages."""
    cl = math.sqrt(gamma * pl / rl)
    cr = math.sqrt(gamma * pr / rr)
    sql = math.sqrt(rl)
    sqr = math.sqrt(rr)
    # Roe averages of velocity and enthalpy (Toro eq. 11.60) give the Roe sound speed.
    v2l = vnl * vnl + vt1l * vt1l + vt2l * vt2l
    v2r = vnr * vnr + vt1r * vt1r + vt2r * vt2r
    hl = 0.5 * v2l + cl * cl / (gamma - 1.0)
    hr = 0.5 * v2r + cr * cr / (gamma - 1.0)
    w = 1.0 / (sql + sqr)
    vn_roe = (sql * vnl + sqr * vnr) * w
    vt1_roe = (sql * vt1l + sqr * vt1r) * w
    vt2_roe = (sql * vt2l + sqr * vt2r) * w
    h_roe = (sql * hl + sqr * hr) * w
    c2_roe = (gamma - 1.0) * (h_roe - 0.5 * (vn_roe * vn_roe + vt1_roe * vt1_roe
                                             + vt2_roe * vt2_roe))
    c_roe = math.sqrt(max(c2_roe, 0.0))
    sl = min(vnl - cl, vn_roe - c_roe, 0.0)
    sr = max(vnr + cr, vn_roe + c_roe, 0.0)
    el = pl / (gamma - 1.0) + 0.5 * rl * v2l
    er = pr / (gamma - 1.0) + 0.5 * rr * v2r
    f0l, f1l, f2l, f3l, f4l = _physical_flux(rl, vnl, vt1l, vt2l, pl, gamma)
    f0r, f1r, f2r, f3r, f4r = _physical_flux(rr, vnr, vt1r, vt2r, pr, gamma)
    a = 1.0 / (sr - sl)
    b = sl * sr
    return ((sr * f0l - sl * f0r + b * (rr - rl)) * a,
            (sr * f1l - sl * f1r + b * (rr * vnr - rl * vnl)) * a,
            (sr * f2l - sl * f2r + b * (rr * vt1r - rl * vt1l)) * a,
            (sr * f3l - sl * f3r + b * (rr * vt2r - rl * vt2l)) * a,
            (sr * f4l - sl * f4r + b * (er - el)) * a)


@numba.njit(cache=True)  # a call: only the few faces of the flux correction use it
def hlle_call(rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma):
    return hlle(rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma)


@numba.njit(inline="always")
def hllc(rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma):
    """HLLC flux of Toro, Spruce & Speares (1994); Toro sec. 10.4-10.6.

    Wave speeds from the pressure-based estimate (Toro eqs. 10.59-10.62, PVRS
    pressure), star speed S* from Toro eq. 10.37, star states eq. 10.39.

    The divisions are placed so that none waits on another's result where it
    need not: a face's chain of dependent operations (square roots and
    divisions take ~15-20 cycles each), not the count of operations, sets its
    cost.  So gamma / rho_K is formed at once and the shocked side's
    c_K q_K = c_K sqrt(1 + g (p*/p_K - 1)) as sqrt(gamma / rho_K (p_K + g (p* - p_K))),
    and S - S* as (S D - N) / D from S* = N / D.
    """
    gl = gamma / rl
    gr = gamma / rr
    cl = math.sqrt(gl * pl)
    cr = math.sqrt(gr * pr)
    rho_bar = 0.5 * (rl + rr)
    c_bar = 0.5 * (cl + cr)
    p_star = max(0.0, 0.5 * (pl + pr) - 0.5 * (vnr - vnl) * rho_bar * c_bar)
    g = (gamma + 1.0) / (2.0 * gamma)
    # c_K q_K with q_K = 1 unless side K is shocked (p* > p_K); tested so that the
    # branches follow the flow (none taken in a quiet region, the same one in a
    # region of small waves), not the sign of each face's small pressure jump
    al, ar = cl, cr
    if p_star > max(pl, pr):
        al = math.sqrt(gl * (pl + g * (p_star - pl)))
        ar = math.sqrt(gr * (pr + g * (p_star - pr)))
    elif p_star > min(pl, pr):
        if pl < pr:
            al = math.sqrt(gl * (pl + g * (p_star - pl)))
        else:
            ar = math.sqrt(gr * (pr + g * (p_star - pr)))
    sl = vnl - al
    sr = vnr + ar
    dl = rl * (sl - vnl)
    dr = rr * (sr - vnr)
    num = pr - pl + vnl * dl - vnr * dr
    den = dl - dr  # < 0: S_L < v_L, S_R > v_R
    s_star = num / den
    if sl >= 0.0:
        return _physical_flux(rl, vnl, vt1l, vt2l, pl, gamma)
    if sr <= 0.0:
        return _physical_flux(rr, vnr, vt1r, vt2r, pr, gamma)
    # the side of the contact, by selects (S* changes sign from face to face in a
    # noisy flow, where a branch would be mispredicted half the time)
    left = s_star >= 0.0
    r = rl if left else rr
    vn = vnl if left else vnr
    vt1 = vt1l if left else vt1r
    vt2 = vt2l if left else vt2r
    p = pl if left else pr
    s = sl if left else sr
    d = dl if left else dr
    f0, f1, f2, f3, f4 = _physical_flux(r, vn, vt1, vt2, p, gamma)
    e = p / (gamma - 1.0) + 0.5 * r * (vn * vn + vt1 * vt1 + vt2 * vt2)
    # U*_K - U_K, multiplied by S_K (Toro eq. 10.38-10.39)
    rs = d * den / (s * den - num)
    es = rs * (e / r + (s_star - vn) * (s_star + p / d))
    return (f0 + s * (rs - r),
            f1 + s * (rs * s_star - r * vn),
            f2 + s * (rs - r) * vt1,
            f3 + s * (rs - r) * vt2,
            f4 + s * (es - e))


@numba.njit(inline="always")
def _pressure_function(p, rk, pk, ck, gamma):
    """Toro eqs. 4.6-4.7 and their derivative: f_K(p), f_K'(p), and c*_K / c_K.

    On the rarefaction branch the one power x = (p/p_K)^((g-1)/2g) gives all
    three: f_K = 2 c_K (x - 1) / (g - 1), f_K' = x (p_K / p) / (rho_K c_K) (the
    power -(g+1)/2g is (g-1)/2g - 1), and x itself is c*_K / c_K (Toro eq. 4.54),
    kept for the sampling.  At p = p_K (the star pressure of a face between equal
    pressures) x = 1 is written out: the same bits as the power, without its cost."""
    if p == pk:
        return 0.0, pk / (p * rk * ck), 1.0
    if p > pk:
        ak = 2.0 / ((gamma + 1.0) * rk)
        bk = (gamma - 1.0) / (gamma + 1.0) * pk
        q = math.sqrt(ak / (p + bk))
        return (p - pk) * q, q * (1.0 - 0.5 * (p - pk) / (p + bk)), 1.0
    x = (p / pk) ** ((gamma - 1.0) / (2.0 * gamma))
    return 2.0 * ck / (gamma - 1.0) * (x - 1.0), x * pk / (p * rk * ck), x


@numba.njit(cache=True)
def exact_state(rl, vl, pl, rr, vr, pr, gamma, xi):
    """The exact solution of the 1D Riemann problem at similarity coordinate xi = x/t.

    Newton iteration for the star pressure (Toro sec. 4.3, eq. 4.44) from the
    PVRS guess, then sampling (Toro sec. 4.5); a vacuum generated between the
    rarefactions is sampled as in Toro sec. 4.6.  The iteration stops when the
    next step would change p by less than 1e-14 of itself, keeping the p where
    f_K were last evaluated (so v* = (v_L + v_R + f_R - f_L) / 2 needs no more
    powers).  Returns (rho, v, p, side) where side is -1 left of the contact and
    +1 right of it (it selects the transverse velocities).
    """
    cl = math.sqrt(gamma * pl / rl)
    cr = math.sqrt(gamma * pr / rr)
    gm1 = gamma - 1.0
    gp1 = gamma + 1.0
    if 2.0 * (cl + cr) / gm1 <= vr - vl:
        # Vacuum generation (Toro sec. 4.6.3): two rarefactions and vacuum between.
        s_vl = vl + 2.0 * cl / gm1
        s_vr = vr - 2.0 * cr / gm1
        if xi <= s_vl:
            return _sample_left(rl, vl, pl, cl, gamma, 0.0, 0.0, s_vl, xi)
        if xi >= s_vr:
            return _sample_right(rr, vr, pr, cr, gamma, 0.0, 0.0, s_vr, xi)
        return 0.0, 0.5 * (s_vl + s_vr), 0.0, (-1 if xi < 0.5 * (s_vl + s_vr) else 1)
    p = max(1e-12 * min(pl, pr),
            0.5 * (pl + pr) - 0.125 * (vr - vl) * (rl + rr) * (cl + cr))
    for _ in range(100):
        fl, dfl, xl = _pressure_function(p, rl, pl, cl, gamma)
        fr, dfr, xr = _pressure_function(p, rr, pr, cr, gamma)
        p_new = p - (fl + fr + vr - vl) / (dfl + dfr)
        if p_new <= 0.0:
            p_new = 1e-12 * min(pl, pr)
        if 2.0 * abs(p_new - p) / (p_new + p) < 1e-14:
            break
        p = p_new
    v_star = 0.5 * (vl + vr) + 0.5 * (fr - fl)
    if xi <= v_star:
        if p > pl:
            # left shock, Toro eq. 4.50 and 4.52
            sl = vl - cl * math.sqrt(gp1 / (2.0 * gamma) * p / pl + gm1 / (2.0 * gamma))
            if xi <= sl:
                return rl, vl, pl, -1
            ratio = p / pl
            return rl * (ratio + gm1 / gp1) / (gm1 / gp1 * ratio + 1.0), v_star, p, -1
        c_star = cl * xl
        return _sample_left(rl, vl, pl, cl, gamma, p, c_star, v_star - c_star, xi)
    if p > pr:
        sr = vr + cr * math.sqrt(gp1 / (2.0 * gamma) * p / pr + gm1 / (2.0 * gamma))
        if xi >= sr:
            return rr, vr, pr, 1
        ratio = p / pr
        return rr * (ratio + gm1 / gp1) / (gm1 / gp1 * ratio + 1.0), v_star, p, 1
    c_star = cr * xr
    return _sample_right(rr, vr, pr, cr, gamma, p, c_star, v_star + c_star, xi)


@numba.njit(inline="always")
def _star_density(p_star, c_star, gamma):
    """Density behind a rarefaction, rho*_K = rho_K (p*/p_K)^(1/g) (Toro eq. 4.53),
    from the sound speed there: rho* = g p* / c*^2, no power (0 at a vacuum)."""
    return gamma * p_star / (c_star * c_star) if c_star > 0.0 else 0.0


@numba.njit(inline="always")
def _sample_left(rl, vl, pl, cl, gamma, p_star, c_star, s_tail, xi):
    """Left rarefaction: head at vl - cl, tail at s_tail, sound speed c_star behind it
    (Toro eqs. 4.53-4.56)."""
    gm1 = gamma - 1.0
    if xi <= vl - cl:
        return rl, vl, pl, -1
    if xi >= s_tail:
        return _star_density(p_star, c_star, gamma), s_tail + c_star, p_star, -1
    f = 2.0 / (gamma + 1.0) + gm1 / ((gamma + 1.0) * cl) * (vl - xi)
    return (rl * f ** (2.0 / gm1), 2.0 / (gamma + 1.0) * (cl + 0.5 * gm1 * vl + xi),
            pl * f ** (2.0 * gamma / gm1), -1)


@numba.njit(inline="always")
def _sample_right(rr, vr, pr, cr, gamma, p_star, c_star, s_tail, xi):
    """Right rarefaction: head at vr + cr, tail at s_tail, sound speed c_star behind it
    (Toro eqs. 4.60-4.63)."""
    gm1 = gamma - 1.0
    if xi >= vr + cr:
        return rr, vr, pr, 1
    if xi <= s_tail:
        return _star_density(p_star, c_star, gamma), s_tail - c_star, p_star, 1
    f = 2.0 / (gamma + 1.0) - gm1 / ((gamma + 1.0) * cr) * (vr - xi)
    return (rr * f ** (2.0 / gm1), 2.0 / (gamma + 1.0) * (-cr + 0.5 * gm1 * vr + xi),
            pr * f ** (2.0 * gamma / gm1), 1)


@numba.njit(cache=True)  # a call: its Newton iteration, not the call, is the cost
def exact(rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma):
    """Godunov flux from the exact solution sampled on the face (Toro ch. 4 and 6)."""
    r, vn, p, side = exact_state(rl, vnl, pl, rr, vnr, pr, gamma, 0.0)
    if side < 0:
        return _physical_flux(r, vn, vt1l, vt2l, p, gamma)
    return _physical_flux(r, vn, vt1r, vt2r, p, gamma)


def flux(code, rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma):
    """The flux of the solver named by ``code`` (see ``CODES``), which must be a
    compile-time constant in numba code: only that solver is compiled into the caller."""


@overload(flux, prefer_literal=True,
          jit_options={"forceinline": True, "error_model": "numpy"})
def _flux(code, rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma):
    if not isinstance(code, types.IntegerLiteral):
        raise errors.TypingError("riemann.flux: the solver must be a compile-time constant")
    solver = {LLF: llf, HLLE: hlle, HLLC: hllc, EXACT: exact}[code.literal_value]
    return lambda code, rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma: solver(
        rl, vnl, vt1l, vt2l, pl, rr, vnr, vt1r, vt2r, pr, gamma)


@numba.njit(cache=True)
def _sample_profile(rl, vl, pl, rr, vr, pr, gamma, xi, out):
    for n in range(xi.size):
        r, v, p, _ = exact_state(rl, vl, pl, rr, vr, pr, gamma, xi[n])
        out[0, n] = r
        out[1, n] = v
        out[2, n] = p


def exact_solution(left, right, gamma, x, t, x0=0.5):
    """Density, velocity and pressure of the exact Riemann solution at positions x, time t.

    ``left`` and ``right`` are (rho, v, p) triples; the discontinuity starts at x0.
    Returns an array of shape (3, len(x)).
    """
    xi = (np.asarray(x, dtype=np.float64) - x0) / t
    out = np.empty((3, xi.size))
    _sample_profile(*map(float, left), *map(float, right), float(gamma), xi.ravel(), out)
    return out
