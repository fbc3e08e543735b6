"""Optically thin radiative cooling integrated exactly (Townsend 2009, ApJS 181, 391).

The gas loses internal energy at the rate n_H^2 Lambda(T) per unit volume
(n_H = X rho / m_H).  At fixed density (operator splitting) the temperature obeys

    dT/dt = -C rho Lambda(T),   C = (gamma - 1) mu X^2 / (m_H k_B),

so with the temporal evolution function F(T) = int_T^{T_top} dT' / Lambda(T')
(Townsend's Y up to constants, his eq. 24) one step is exact:

    F(T_new) = F(T_old) + C rho dt,    T_new = F^{-1}(...)   (Townsend eq. 26).

Lambda(T) is a piecewise power law through the table nodes (T_k, Lambda_k), so
F and its inverse are closed-form on each segment (Townsend eqs. A1-A7); above
the table the top segment's power law continues.  Cooling stops at the
temperature floor: when F reaches F(T_floor) the cell sits on the floor, for
any time step.

A step that ends on the segment it starts on (most steps: the time step is
usually far below the cooling time) is the same solution written relative to
the cell's own temperature, with Lambda = Lambda_k (T / T_k)^alpha_k and
e = 1 - alpha_k:

    T_new / T = (1 - y)^(1/e),   y = C rho dt e Lambda(T) / T,

and the energy lost is the fraction 1 - (1 - y)^(1/e) of the thermal energy,
summed as its binomial series where y is small: one power per cell instead of
two, and no loss of digits to the difference of two nearby values of F.
"""

import math
import os

import numba
import numpy as np

from hydro.core import threads
from hydro.euler.system import row
from hydro.sources import SourceTerm


TABLES = {"sd93": "cooling_sd93_cie.txt"}


def shipped_table(name, metallicity=1.0):
    """Nodes [T (K), Lambda (erg cm^3 s^-1, rate n_H^2 Lambda)] of a shipped table at
    metallicity Z (solar units): Lambda_zero + Z (Lambda_solar - Lambda_zero), the
    per-element scaling of Schure et al. 2009 (A&A 508, 751, eq. 3).  See the data
    file's header for the source and its normalisation."""
    path = os.path.join(os.path.dirname(__file__), "data", TABLES[name])
    log_t, log_solar, log_zero = np.loadtxt(path, unpack=True)
    zero = 10.0 ** log_zero
    return np.column_stack([10.0 ** log_t, zero + metallicity * (10.0 ** log_solar - zero)])


# rows of the per-segment constants (``segment_integrals``): on segment k, with
# Lambda = Lambda_k (T / T_k)^alpha_k and e_k = 1 - alpha_k, the antiderivative of
# -1/Lambda is -SCALE_k (T / T_k)^e_k with SCALE_k = T_k / (Lambda_k e_k), or
# -SCALE_k ln(T / T_k) with SCALE_k = T_k / Lambda_k where alpha_k = 1
INV_T, EXPONENT, INV_EXPONENT, SCALE, INV_SCALE = range(5)


def segment_integrals(temperatures, lambdas):
    """Exponents alpha_k of each segment; the per-segment constants (rows INV_T ..
    INV_SCALE: reciprocals kept, so that a cell costs no division by them); F at
    every node (F = 0 at the top node); and each segment's antiderivative at its
    own lower node."""
    t = np.asarray(temperatures, dtype=np.float64)
    lam = np.asarray(lambdas, dtype=np.float64)
    alpha = np.log(lam[1:] / lam[:-1]) / np.log(t[1:] / t[:-1])
    e = 1.0 - alpha
    linear = alpha == 1.0
    scale = t[:-1] / (lam[:-1] * np.where(linear, 1.0, e))
    seg = np.array([1.0 / t[:-1], e, 1.0 / np.where(linear, 1.0, e), scale, 1.0 / scale])
    s0 = np.array([_segment_f(t[k], k, seg) for k in range(len(t) - 1)])
    f = np.zeros_like(t)
    for k in range(len(t) - 2, -1, -1):
        f[k] = f[k + 1] + s0[k] - _segment_f(t[k + 1], k, seg)
    return alpha, seg, f, s0


@numba.njit(inline="always")
def _segment_f(temp, k, seg):
    """An antiderivative of -1/Lambda on segment k."""
    x = temp * seg[INV_T, k]
    if seg[EXPONENT, k] == 0.0:
        return -seg[SCALE, k] * math.log(x)
    return -seg[SCALE, k] * x ** seg[EXPONENT, k]


@numba.njit(inline="always")
def _segment(temp, t):
    """The table segment holding temp: the last k <= n - 2 with t[k] <= temp, or 0
    (bisection); the end segments continue beyond the table."""
    lo, hi = 0, t.size - 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if temp >= t[mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


@numba.njit(inline="always")
def _cell_state(u, k, j, i, gamma, t_to_k, eta, ik):
    """Density, internal energy per volume and temperature (K) of one cell of u; with
    dual energy (``ik`` >= 0) from the entropy rho K where the thermal part of E is
    below ``eta`` E, as ``euler.conserved_to_primitive`` does."""
    rho = u[0, k, j, i]
    eint = u[4, k, j, i] - 0.5 * (u[1, k, j, i] ** 2 + u[2, k, j, i] ** 2
                                  + u[3, k, j, i] ** 2) / rho
    if ik >= 0 and eint < eta * u[4, k, j, i]:
        eint = u[ik, k, j, i] * rho ** (gamma - 1.0) / (gamma - 1.0)
    return rho, eint, (gamma - 1.0) * eint / rho * t_to_k


@numba.njit(inline="always")
def _f_on(temp, k, seg, f, s0):
    """F(T) for T on segment k."""
    return f[k] + _segment_f(temp, k, seg) - s0[k]


@numba.njit(inline="always")
def _f_of_t(temp, t, seg, f, s0):
    """F(T) from the table."""
    return _f_on(temp, _segment(temp, t), seg, f, s0)


@numba.njit(inline="always")
def _cooled_on_segment(temp, delta, k, t, seg):
    """The fraction 1 - T_new / T of the thermal energy lost when F advances by delta
    from T on segment k, and whether T_new is still on that segment (if not, the
    fraction is not computed).

    With x = T / T_k and SCALE_k (x^e - x_new^e) = delta, T_new = T (1 - y)^(1/e)
    where y = delta / (SCALE_k x^e); where F = -SCALE_k ln x (e = 0),
    T_new = T exp(-delta / SCALE_k).  1 - (1 - y)^a with a = 1/e is -expm1(a log1p(-y)),
    or for |y| (|a| + 4) < 1e-4 its binomial series to y^4, exact to round-off
    there (each next term is smaller by |y| |a - n| / (n + 1) < 1e-4) and free of
    the two transcendental functions."""
    e = seg[EXPONENT, k]
    if e == 0.0:
        fraction = -math.expm1(-delta * seg[INV_SCALE, k])
        return fraction, temp * (1.0 - fraction) >= t[k]
    xe = (temp * seg[INV_T, k]) ** e
    y = delta * seg[INV_SCALE, k] / xe
    # on the segment while x_new = (x^e (1 - y))^(1/e) >= 1
    if not (xe * (1.0 - y) >= 1.0 if e > 0.0 else xe * (1.0 - y) <= 1.0):
        return 0.0, False
    a = seg[INV_EXPONENT, k]
    if abs(y) * (abs(a) + 4.0) < 1e-4:
        return a * y * (1.0 + (1.0 - a) * 0.5 * y * (1.0 + (2.0 - a) * (1.0 / 3.0) * y
                                                     * (1.0 + (3.0 - a) * 0.25 * y))), True
    return -math.expm1(math.log1p(-y) * a), True


@numba.njit(inline="always")
def _t_of_f(value, t, seg, f, s0):
    """The inverse of F: the temperature where F equals value."""
    k, hi = 0, t.size - 2  # the first k with f[k + 1] <= value (f falls with k)
    while k < hi:
        mid = (k + hi) // 2
        if value < f[mid + 1]:
            k = mid + 1
        else:
            hi = mid
    # solve f[k] + S(T) - S(t_k) = value on segment k
    x = -(value - f[k] + s0[k]) * seg[INV_SCALE, k]
    if seg[EXPONENT, k] == 0.0:
        return t[k] * math.exp(x)
    return t[k] * x ** seg[INV_EXPONENT, k]


@numba.njit(cache=True, nogil=True)
def min_cooling_time(u, b, gamma, t_to_k, rate, t_floor, t, lam, alpha, eta, ik, part, parts):
    """min over this part's active cells above the floor of t_cool = T / (rate rho Lambda(T))."""
    result = np.inf
    first, last = threads.share((b[1] - b[0]) * (b[3] - b[2]), part, parts)
    for r in range(first, last):
        k, j = row(r, b[0], b[2], b[3] - b[2])
        for i in range(b[4], b[5]):
            rho, _, temp = _cell_state(u, k, j, i, gamma, t_to_k, eta, ik)
            if temp > t_floor:
                s = _segment(temp, t)
                lam_t = lam[s] * (temp / t[s]) ** alpha[s]
                result = min(result, temp / (rate * rho * lam_t))
    return result


@numba.njit(cache=True, nogil=True)
def cool(u, b, gamma, t_to_k, rate, dt, t_floor, t, seg, f, s0, heating, removed, eta, ik,
         part, parts):
    """Exact cooling of this part's active cells of u over dt.

    ``t_to_k`` turns p/rho (code units) into kelvin, ``rate`` is C times the
    density and time unit conversions, so that F advances by rate * rho * dt
    with rho and dt in code units.  The internal energy removed from each cell
    (code units, per volume) is stored in ``removed``.  A constant volume
    heating rate is then added over dt (operator split), and counted negative
    in ``removed``.  With dual energy the entropy rho K follows the internal
    energy (at fixed density p, and so K, scales with it).
    """
    f_floor = _f_of_t(t_floor, t, seg, f, s0)
    first, last = threads.share((b[1] - b[0]) * (b[3] - b[2]), part, parts)
    for r in range(first, last):
        k, j = row(r, b[0], b[2], b[3] - b[2])
        for i in range(b[4], b[5]):
            rho, eint, temp = _cell_state(u, k, j, i, gamma, t_to_k, eta, ik)
            lost = 0.0
            if temp > t_floor:
                delta = rate * rho * dt
                s = _segment(temp, t)
                fraction, stays = _cooled_on_segment(temp, delta, s, t, seg)
                if not stays or temp * (1.0 - fraction) < t_floor:
                    # down the table through F, to the floor at most
                    target = _f_on(temp, s, seg, f, s0) + delta
                    new = t_floor if target >= f_floor else \
                        max(_t_of_f(target, t, seg, f, s0), t_floor)
                    fraction = 1.0 - new / temp
                lost = eint * fraction
                u[4, k, j, i] -= lost
            u[4, k, j, i] += heating * dt
            removed[k, j, i] = lost - heating * dt
            if ik >= 0 and eint > 0.0:
                u[ik, k, j, i] *= 1.0 - removed[k, j, i] / eint


class Cooling(SourceTerm):
    """Operator-split exact cooling with a piecewise power-law Lambda(T).

    ``table``: nodes (T in K, Lambda in erg cm^3 s^-1), increasing in T, or the
    name of a shipped table (``TABLES``) read at ``metallicity``;
    ``units``: the run's UnitSystem; ``mu``, ``hydrogen_fraction``, ``gamma``:
    the gas; ``temperature_floor`` in K; ``heating`` a constant volume heating
    rate in code units.  ``removed`` holds the net energy removed per cell in
    the last call (for the history's energy budget).
    """

    operator_split = True
    budget_names = ("radiated",)

    def __init__(self, table, units, mu, hydrogen_fraction, gamma, temperature_floor,
                 heating=0.0, metallicity=1.0, dual_energy=0.0, entropy_index=-1):
        from hydro.core.units import M_H, temperature
        if isinstance(table, str):
            if table not in TABLES:
                raise ValueError(f"unknown cooling table '{table}': give one of "
                                 f"{', '.join(TABLES)} or [[T, Lambda], ...] rows")
            table = shipped_table(table, metallicity)
        table = np.asarray(table, dtype=np.float64)
        if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] != 2 \
                or np.any(np.diff(table[:, 0]) <= 0) or np.any(table <= 0):
            raise ValueError("the cooling table needs two or more [T, Lambda] rows, "
                             "positive, with T increasing")
        if temperature_floor < table[0, 0]:
            raise ValueError(f"the temperature floor {temperature_floor} K lies below the "
                             f"cooling table (from {table[0, 0]} K)")
        self.t, self.lam = table[:, 0].copy(), table[:, 1].copy()
        self.alpha, self.seg, self.f, self.s0 = segment_integrals(self.t, self.lam)
        self.gamma = gamma
        self.t_floor = float(temperature_floor)
        self.t_to_k = float(temperature(np.float64(1.0), units, mu))
        density_cgs = units.cgs["mass"] / units.cgs["length"] ** 3
        # F advances by (gamma - 1) mu X^2 / (m_H k_B) * rho * dt, with rho, dt in cgs:
        # C = (gamma - 1) mu X^2 / (m_H k_B) = X^2 (gamma - 1) / m_H^2 * (mu m_H / k_B)
        self.rate = ((gamma - 1.0) * hydrogen_fraction ** 2 / M_H ** 2
                     * (self.t_to_k / units.velocity_cgs() ** 2)
                     * density_cgs * units.cgs["time"])
        self.heating = float(heating)  # code units: energy per volume per time
        self.eta, self.ik = float(dual_energy), int(entropy_index)  # see euler.Euler
        self.removed = None

    def cooling_time(self, u, block):
        """The shortest cooling time T / |dT/dt| of the block's cells (code units)."""
        return min(threads.run(min_cooling_time, u, block.bounds, self.gamma, self.t_to_k,
                               self.rate, self.t_floor, self.t, self.lam, self.alpha,
                               self.eta, self.ik))

    def budget(self, block, dt):
        return {"radiated": self.removed}

    def warm_up(self):
        u = np.ones((max(self.ik + 1, 5), 1, 1, 1))
        b = np.array([0, 1, 0, 1, 0, 1])
        min_cooling_time(u, b, self.gamma, self.t_to_k, self.rate, self.t_floor, self.t,
                         self.lam, self.alpha, self.eta, self.ik, 0, 1)
        cool(u, b, self.gamma, self.t_to_k, self.rate, 0.0, self.t_floor, self.t, self.seg,
             self.f, self.s0, self.heating, np.zeros((1, 1, 1)), self.eta, self.ik, 0, 1)

    def apply(self, w, u, block, t, dt, mass_flux):
        if self.removed is None or self.removed.shape != u.shape[1:]:
            self.removed = np.zeros(u.shape[1:])
        threads.run(cool, u, block.bounds, self.gamma, self.t_to_k, self.rate, dt,
                    self.t_floor, self.t, self.seg, self.f, self.s0, self.heating,
                    self.removed, self.eta, self.ik)
