"""Analytic approximations of Truelove & McKee (1999, ApJS 120, 299; "TM99") for a
non-radiative supernova remnant in a uniform ambient medium (s = 0), for ejecta made of
a uniform core plus a power-law envelope rho_ej ~ v**-n with n = 7 or 9.

Units (TM99 "characteristic" scales, their section on dimensional analysis):

    R_ch = M_ej**(1/3) rho_0**(-1/3)
    t_ch = E**(-1/2) M_ej**(5/6) rho_0**(-1/3)
    v_ch = R_ch / t_ch = (E / M_ej)**(1/2)

All radii below are in units of R_ch, times in units of t_ch, velocities in units of v_ch
(a starred quantity in TM99 notation, e.g. R_b* = R_b / R_ch).

Provenance.  The TM99 paper text (and its erratum, ApJS 128, 403, 2000) could not be read
directly, so equation/table numbers are not quoted; the formulas are named by what they
are.  The tabulated numbers (TM99's table of parameters for power-law envelopes, n > 5)
were taken from the public SNR calculator of Leahy et al. (repository denisleahy/SNRmodels,
PythonVersion/snr_calc.py, VALUE_DICT_S0) and cross-checked against gammapy's
SNRTrueloveMcKee (n = 9: 1.12 t**(2/3), t_ST = 0.52, 1/1.19, t_core = 0.25, 1.49, 0.16, 0.46)
and Sarbadhicary et al. 2017's s17lc.py (n = 10 and 12 coefficients).  Every entry except the
reverse-shock acceleration a_core was re-derived here from (l_ED, phi_ED) alone, see
``derived_parameters``, and l_ED, phi_ED themselves agree with a re-integration of the
Chevalier (1982) self-similar solution (``CHEVALIER_EXACT``).
"""

import numpy as np

#: Sedov-Taylor constant for gamma = 5/3: R = (xi E t^2 / rho_0)^(1/5).
XI_0 = 2.026

#: TM99 parameters for power-law envelopes, s = 0 (two-significant-figure l_ED, phi_ED as
#: tabulated; the other entries as tabulated, 3 figures).
#:   l_ED   = R_b / R_r during the ED (self-similar, Chevalier 1982) stage
#:   phi_ED = P_r / P_b, post-shock pressure behind reverse over forward shock (ED stage)
#:   t_ST, R_ST : time and blast-wave radius of the ED -> ST switch
#:   t_core, R_core : time / reverse-shock radius when the reverse shock reaches the core
#:   v_core : reverse-shock speed relative to the unshocked ejecta at t_core (= 3 v_core/n)
#:   a_core : constant acceleration of that relative speed after t_core (fit to simulations)
TM99_TABLE = {
    7: dict(l_ED=1.26, phi_ED=0.47, t_ST=0.732, R_ST=0.881,
            t_core=0.363, R_core=0.469, v_core=0.553, a_core=0.116),
    9: dict(l_ED=1.19, phi_ED=0.55, t_ST=0.523, R_ST=0.725,
            t_core=0.249, R_core=0.371, v_core=0.497, a_core=0.162),
}

#: l_ED and phi_ED from integrating the Chevalier (1982) self-similar equations
#: (gamma = 5/3, s = 0) for this module (R_b/R_c = 1.1811 for n = 7, 1.1399 for n = 9).
CHEVALIER_EXACT = {7: dict(l_ED=1.2632, phi_ED=0.4710), 9: dict(l_ED=1.1878, phi_ED=0.5503)}


def _table(n):
    try:
        return TM99_TABLE[int(n)]
    except (KeyError, ValueError, TypeError):
        raise ValueError("only n = 7 and n = 9 are tabulated here, got %r" % (n,))


def v_core_limit(n):
    """Core velocity v_core / v_ch for a power-law envelope extending to infinite speed
    (w_core -> 0 at fixed v_core), the limit TM99 use for n > 5:

        v_core = [10 (n - 5) / (3 (n - 3))]^(1/2) (E / M_ej)^(1/2)

    (n = 7: 1.2910, n = 9: 1.4907).  It follows from the mass and energy integrals of the
    uniform-core + power-law profile, see ``ejecta_profile``."""
    n = float(n)
    if n <= 5:
        raise ValueError("needs n > 5")
    return np.sqrt(10.0 * (n - 5.0) / (3.0 * (n - 3.0)))


def ed_coefficient(n, l_ED=None, phi_ED=None):
    """Coefficient K of the TM99 ejecta-dominated blast wave for n > 5, s = 0:

        R_b* = K t*^((n-3)/n),
        K^n  = 27 l_ED^(n-2) / (4 pi n (n-3) phi_ED) * v_core*^(n-3),
        v_core* = [10 (n-5) / (3 (n-3))]^(1/2),

    i.e. the Chevalier (1982) self-similar solution written with TM99's l_ED = R_b/R_r and
    phi_ED = P_r/P_b (thin-shell pressure balance, P_b = 3/4 rho_0 Rdot_b^2,
    P_r = 3/4 rho_ej (R_r/t - Rdot_r)^2).  With the TM99 table values K = 1.0535 (n = 7,
    "1.06 t^(4/7)") and 1.1159 (n = 9, "1.12 t^(2/3)", as in gammapy)."""
    p = _table(n) if (l_ED is None or phi_ED is None) else {}
    l = p["l_ED"] if l_ED is None else l_ED
    phi = p["phi_ED"] if phi_ED is None else phi_ED
    n = float(n)
    kn = 27.0 * l ** (n - 2) / (4.0 * np.pi * n * (n - 3.0) * phi) * v_core_limit(n) ** (n - 3)
    return kn ** (1.0 / n)


def derived_parameters(n, l_ED=None, phi_ED=None):
    """Re-derive the TM99 table entries from (l_ED, phi_ED) for checking.

    t_ST is where the ED blast-wave speed (n-3)/n * R_b/t equals the offset Sedov speed
    (2/5) xi^(1/2) R_b^(-3/2) (this reproduces the tabulated t_ST to 3 figures);
    R_ST = K t_ST^((n-3)/n); t_core is where R_r/t = R_b/(l_ED t) falls to v_core;
    R_core = R_b(t_core)/l_ED; v_core (relative) = 3 v_core*/n.  Returns a dict with keys
    K, t_ST, R_ST, t_core, R_core, v_core, offset (= R_ST^2.5 - xi^0.5 t_ST)."""
    p = _table(n)
    l = p["l_ED"] if l_ED is None else l_ED
    K = ed_coefficient(n, l, p["phi_ED"] if phi_ED is None else phi_ED)
    n = float(n)
    vc = v_core_limit(n)
    t_st = (0.4 * np.sqrt(XI_0) * K ** -2.5 * n / (n - 3.0)) ** (2.0 * n / (3.0 * (n - 5.0)))
    r_st = K * t_st ** ((n - 3.0) / n)
    t_c = (K / (l * vc)) ** (n / 3.0)
    r_c = K * t_c ** ((n - 3.0) / n) / l
    return dict(K=K, t_ST=t_st, R_ST=r_st, t_core=t_c, R_core=r_c, v_core=3.0 * vc / n,
                offset=r_st ** 2.5 - np.sqrt(XI_0) * t_st)


def forward_shock(t, n):
    """Blast-wave (forward shock) radius R_b* at time t* (arrays allowed), TM99, s = 0:

      ED stage, t* < t_ST*:  R_b* = K t*^((n-3)/n)      (K from ``ed_coefficient``:
                             1.0535 t^(4/7) for n = 7, 1.1159 t^(2/3) for n = 9)
      ST stage, t* >= t_ST*: R_b* = [R_ST*^(5/2) + xi^(1/2) (t* - t_ST*)]^(2/5)
                             ("offset power law"; n = 7: (1.4234 t* - 0.3135)^(2/5),
                              n = 9: (1.4234 t* - 0.2969)^(2/5)),

    with xi = 2.026 so that R_b* -> 1.1517 t*^(2/5) at late times, and (t_ST*, R_ST*) =
    (0.732, 0.881) for n = 7, (0.523, 0.725) for n = 9 (TM99 table).  The ED and ST
    branches meet to 5e-4 in radius and 0.2% in velocity.  An independent 1-D Lagrangian
    check agreed to <1% for t* < 1 (n = 7) and lay 2.5-3% above the ST branch by t* = 3,
    the same offset it showed against TM99's own n = 0 formula there."""
    p = _table(n)
    t = np.asarray(t, dtype=float)
    K = ed_coefficient(n)
    ed = K * np.abs(t) ** ((n - 3.0) / n)
    st_arg = p["R_ST"] ** 2.5 + np.sqrt(XI_0) * (t - p["t_ST"])
    st = np.abs(st_arg) ** 0.4
    return np.where(t < p["t_ST"], ed, st)


def forward_shock_velocity(t, n):
    """dR_b*/dt* of ``forward_shock``: (n-3)/n R_b*/t* (ED), (2/5) xi^(1/2) R_b*^(-3/2) (ST)."""
    p = _table(n)
    t = np.asarray(t, dtype=float)
    r = forward_shock(t, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        ed = (n - 3.0) / n * r / t
        st = 0.4 * np.sqrt(XI_0) * r ** -1.5
    return np.where(t < p["t_ST"], ed, st)


def reverse_shock(t, n):
    """Reverse-shock radius R_r* at time t* (arrays allowed), TM99, n > 5, s = 0:

      t* < t_core*:  R_r* = R_b*(t*) / l_ED   (ED self-similar stage, reverse shock in
                     the power-law envelope; l_ED = 1.26 (n = 7), 1.19 (n = 9))
      t* >= t_core*: reverse shock inside the uniform core, its speed relative to the
                     unshocked ejecta growing linearly, v~ = v~_core + a~_core (t - t_core):
                     R_r* = t* [R_core*/t_core* - a~_core (t* - t_core*)
                                - (v~_core* - a~_core t_core*) ln(t*/t_core*)]

    (n = 7: t_core = 0.363, R_core = 0.469, v~ = 0.553, a~ = 0.116;
     n = 9: t_core = 0.249, R_core = 0.371, v~ = 0.497, a~ = 0.162).  The second branch is
    used through the rest of the ED stage and the ST stage until the reverse shock reaches
    the centre (``reverse_shock_collapse_time``: 2.69 for n = 7, 2.71 for n = 9); the radius
    is 0 afterwards.  a~_core is the only entry that is a fit to simulations rather than
    derivable from (l_ED, phi_ED); it is the least certain number here.  A crude
    independent 1-D Lagrangian run (w_core = 0.1, energy conserved to 1e-4) reproduced
    TM99's n = 0 reverse shock to ~2% but put the n = 7 reverse shock up to ~10% inside
    this curve for 1 < t* < 2.3 and at the centre at t* ~ 2.5 (best-fit a~ ~ 0.14); for
    n = 9 the deviation was larger (a~ ~ 0.25, less reliable run): the core branch is
    the least certain part of this reference, and least of all near the collapse."""
    p = _table(n)
    t = np.asarray(t, dtype=float)
    early = forward_shock(np.minimum(t, p["t_core"]), n) / p["l_ED"]
    with np.errstate(divide="ignore", invalid="ignore"):
        tc, a = p["t_core"], p["a_core"]
        late = t * (p["R_core"] / tc - a * (t - tc)
                    - (p["v_core"] - a * tc) * np.log(np.where(t > 0, t, tc) / tc))
    return np.where(t < p["t_core"], early, np.maximum(late, 0.0))


def reverse_shock_collapse_time(n):
    """t* at which the TM99 reverse shock (``reverse_shock`` core branch) reaches r = 0."""
    p = _table(n)
    lo, hi = p["t_core"], 20.0
    f = lambda x: (p["R_core"] / p["t_core"] - p["a_core"] * (x - p["t_core"])
                   - (p["v_core"] - p["a_core"] * p["t_core"]) * np.log(x / p["t_core"]))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def ejecta_profile(n, w_core, E=1.0, M_ej=1.0):
    """Uniform core + power-law envelope ejecta of TM99 (free expansion, v = r/t):

        rho_ej(r, t) = M_ej / (v_ej t)^3 * f(w),   w = r / (v_ej t), 0 <= w <= 1,
        f(w) = f_0 = f_n w_core^-n   for w <= w_core      (uniform core, continuous)
        f(w) = f_n w^-n              for w_core < w <= 1  (envelope)

    normalised so that the mass is M_ej,  4 pi int_0^1 f w^2 dw = 1, giving

        f_n   = 3 (n - 3) / (4 pi (n w_core^(3-n) - 3)),

    and the kinetic energy is E = 1/2 alpha M_ej v_ej^2 with alpha = int f w^4 / int f w^2:

        alpha = 3 (n - 3) (n w_core^(5-n) - 5) / (5 (n - 5) (n w_core^(3-n) - 3)),
        v_ej  = (2 E / (alpha M_ej))^(1/2),    v_core = w_core v_ej.

    For w_core -> 0 (TM99's n > 5 limit) alpha -> 3 (n-3) w_core^2 / (5 (n-5)) and
    v_core -> [10 (n-5) E / (3 (n-3) M_ej)]^(1/2) (``v_core_limit``), and the envelope is
    rho = A t^-3 v^-n with A = f_n M_ej v_ej^(n-3) -> 3 (n-3)/(4 pi n) M_ej v_core^(n-3).
    (The same formulas reproduce TM99's n = 0, 1, 2 values f = 3/4pi, 1/2pi, 1/4pi and
    alpha = 3/5, 1/2, 1/3, and n = 4 with w_core = 0.1: f_4 = 0.00645, alpha = 0.0746, as
    tabulated in Leahy's calculator.)

    Returns a dict: f_n, f_0, alpha, v_ej, v_core, A, rho_core_coeff (rho_core =
    rho_core_coeff / t^3), and ``density(r, t)`` (a callable; zero for r > v_ej t), all in
    the units of E and M_ej given (the defaults give TM99 characteristic units when
    rho_0 = 1)."""
    n = float(n)
    wc = float(w_core)
    if not 0.0 < wc < 1.0:
        raise ValueError("w_core must be in (0, 1)")
    if n in (3.0, 5.0):
        raise ValueError("n = 3 and n = 5 need the logarithmic integrals")
    i2 = (n * wc ** (3.0 - n) - 3.0) / (3.0 * (n - 3.0))   # int f w^2 dw / f_n
    i4 = (n * wc ** (5.0 - n) - 5.0) / (5.0 * (n - 5.0))   # int f w^4 dw / f_n
    f_n = 1.0 / (4.0 * np.pi * i2)
    alpha = i4 / i2
    v_ej = np.sqrt(2.0 * E / (alpha * M_ej))
    v_core = wc * v_ej
    f_0 = f_n * wc ** -n
    A = f_n * M_ej * v_ej ** (n - 3.0)
    rho_core_coeff = M_ej * f_0 / v_ej ** 3

    def density(r, t):
        w = np.asarray(r, dtype=float) / (v_ej * t)
        f = np.where(w <= wc, f_0, f_n * np.maximum(w, wc) ** -n)
        return np.where(w <= 1.0, M_ej * f / (v_ej * t) ** 3, 0.0)

    return dict(f_n=f_n, f_0=f_0, alpha=alpha, v_ej=v_ej, v_core=v_core, A=A,
                rho_core_coeff=rho_core_coeff, density=density)
