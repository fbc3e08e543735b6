"""Exact radiative cooling (Townsend 2009): analytic power laws, tables, floor, budget."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from common import primitive, simulate
from hydro.io import history
from hydro.sources.cooling import Cooling, shipped_table
from hydro.core.mesh import Block
from hydro.core.units import UnitSystem

GAMMA, MU, X = 5.0 / 3.0, 0.6, 0.7
CELL = Block((0, 0, 0), (1, 1, 1), (0, 0, 0), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
# a made-up but CIE-shaped table: a peak near 1e5 K, a bremsstrahlung-like tail
TABLE = [[1e4, 1e-23], [3e4, 3e-22], [1e5, 1e-21], [1e6, 2e-22], [1e7, 6e-23], [1e9, 3e-22]]


def cool_cell(cooling, rho, temp, total, steps):
    """Temperature of one static cell after ``total`` time in ``steps`` equal steps."""
    u = _cell_u(cooling, rho, temp)
    for _ in range(steps):
        cooling.apply(None, u, CELL, 0.0, total / steps, None)
    return (GAMMA - 1.0) * u[4, 0, 0, 0] / rho * cooling.t_to_k


@pytest.mark.parametrize("alpha", [-0.7, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("steps", [1, 7, 100])
def test_power_law_matches_the_analytic_temperature(alpha, steps):
    """Lambda = L0 (T/T0)^alpha: T(t) from dT/dt = -C rho Lambda, to 1e-10 for any dt."""
    lam0, t0, rho, t_init = 1e-22, 1e6, 1e-24, 1e7
    table = [[1e4, lam0 * (1e4 / t0) ** alpha], [1e9, lam0 * (1e9 / t0) ** alpha]]
    cooling = Cooling(table, UnitSystem(), MU, X, GAMMA, 1e4)
    c = cooling.rate  # = (gamma - 1) mu X^2 / (m_H k_B) in cgs code units
    total = 0.3 * t_init / (c * rho * lam0 * (t_init / t0) ** alpha)  # 0.3 cooling times
    if alpha == 1.0:
        exact = t_init * np.exp(-c * rho * lam0 / t0 * total)
    else:
        exact = t0 * ((t_init / t0) ** (1 - alpha)
                      - (1 - alpha) * c * rho * lam0 * total / t0) ** (1 / (1 - alpha))
    assert exact < 0.95 * t_init  # it really cooled
    assert cool_cell(cooling, rho, t_init, total, steps) == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("alpha", [-0.7, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("fraction_of_t_cool", [1e-9, 1e-6, 1e-3])
def test_energy_lost_in_a_short_step_to_round_off(alpha, fraction_of_t_cool):
    """One step short against the cooling time (as most are): the energy radiated is
    the thermal energy times 1 - (1 - y)^(1/e), y = e C rho dt Lambda(T) / T, e = 1 -
    alpha (exp(-C rho dt Lambda / T) for e = 0), here from log1p and expm1, to 1e-13.
    Taken as a difference of two temperatures, or of two values of F, it would keep
    only about as many digits as dt / t_cool leaves of the 16."""
    lam0, t0, rho, t_init = 1e-22, 1e6, 1e-24, 1e7
    table = [[1e4, lam0 * (1e4 / t0) ** alpha], [1e9, lam0 * (1e9 / t0) ** alpha]]
    cooling = Cooling(table, UnitSystem(), MU, X, GAMMA, 1e4)
    lam = lam0 * (t_init / t0) ** alpha
    dt = fraction_of_t_cool * t_init / (cooling.rate * rho * lam)
    u = _cell_u(cooling, rho, t_init)
    thermal = u[4, 0, 0, 0]
    cooling.apply(None, u, CELL, 0.0, dt, None)
    e = 1.0 - alpha
    if e == 0.0:
        expected = -np.expm1(-cooling.rate * rho * dt * lam / t_init)
    else:
        expected = -np.expm1(np.log1p(-e * cooling.rate * rho * dt * lam / t_init) / e)
    assert cooling.removed[0, 0, 0] == pytest.approx(thermal * expected, rel=1e-13, abs=0.0)


def test_table_agrees_with_a_converged_explicit_integration():
    cooling = Cooling(TABLE, UnitSystem(), MU, X, GAMMA, 1e4)
    temps, lams = np.log(np.array(TABLE)).T
    rho, t_init, total = 1e-23, 3e6, 2e12  # from 3e6 K down across the 1e6 K node

    def rhs(_, y):
        lam = np.exp(np.interp(np.log(y[0]), temps, lams))
        return [-cooling.rate * rho * lam]

    explicit = solve_ivp(rhs, (0.0, total), [t_init], method="RK45", rtol=1e-10,
                         atol=1e-6).y[0, -1]
    exact = cool_cell(cooling, rho, t_init, total, 1)
    assert exact < 0.1 * t_init
    assert exact == pytest.approx(explicit, rel=1e-3)
    assert cool_cell(cooling, rho, t_init, total, 50) == pytest.approx(exact, rel=1e-10)


def test_floor_is_never_crossed():
    cooling = Cooling(TABLE, UnitSystem(), MU, X, GAMMA, 2e4)
    for steps in (1, 3):
        assert cool_cell(cooling, 1e-20, 1e6, 1e16, steps) == pytest.approx(2e4, rel=1e-12)
    assert cool_cell(cooling, 1e-20, 1.5e4, 1e16, 1) == pytest.approx(1.5e4, rel=1e-15)


def test_energy_removed_is_in_the_history(tmp_path):
    """A uniform box cooling in a run: total energy + radiated stays constant, and the
    final temperature is the exact one whatever the step count."""
    params = {"problem": "linear_wave", "mesh": {"nx": [8], "boundary": ["periodic"]},
              "units": {"length": "pc", "mass": "Msun", "time": "kyr"},
              "hydro": {"gamma": GAMMA, "mu": MU, "hydrogen_fraction": X},
              "cooling": {"table": TABLE, "temperature_floor": 1e4},
              "time": {"tlim": 30.0}, "output": {"snapshots": False},
              "problem_params": {"amplitude": 0.0}}
    finals = []
    for cfl in (0.9, 0.05):
        params["hydro"]["cfl"] = cfl
        sim = simulate(params, tmp_path / str(cfl))
        names, rows = history.read(sim.history.path)
        energy = np.array([r[names.index("energy")] for r in rows])
        radiated = np.array([r[names.index("radiated")] for r in rows])
        assert radiated[-1] > 0.01 * energy[0]
        np.testing.assert_allclose(energy + radiated, energy[0], rtol=1e-13)
        finals.append(primitive(sim, "pressure")[0, 0, 0])
    assert finals[0] == pytest.approx(finals[1], rel=1e-10)


def run_box(tmp_path, cooling, tlim=30.0, cfl=0.9):
    params = {"problem": "linear_wave", "mesh": {"nx": [8], "boundary": ["periodic"]},
              "units": {"length": "pc", "mass": "Msun", "time": "kyr"},
              "hydro": {"gamma": GAMMA, "mu": MU, "hydrogen_fraction": X, "cfl": cfl},
              "cooling": cooling, "time": {"tlim": tlim}, "output": {"snapshots": False},
              "problem_params": {"amplitude": 0.0}}
    sim = simulate(params, tmp_path)
    names, rows = history.read(sim.history.path)
    return sim, names, np.array(rows)


def test_dt_limited_to_a_fraction_of_the_cooling_time(tmp_path):
    sim, names, rows = run_box(tmp_path, {"table": TABLE, "dt_fraction": 1e-4})
    free, _, free_rows = run_box(tmp_path / "free", {"table": TABLE})
    assert len(rows) > 3 * len(free_rows)  # the limiter made the steps shorter
    cooling = sim.cooling
    # replay: every step is at most 1e-4 of the cooling time at its start
    rho = primitive(sim, "density")[0, 0, 0]
    for row, nxt in zip(rows[:-1], rows[1:]):
        e = row[names.index("energy")] / sim.mesh.cell_volume / sim.mesh.ncells
        temp = (GAMMA - 1.0) * e / rho * cooling.t_to_k
        s = np.searchsorted(cooling.t, temp) - 1
        lam = cooling.lam[s] * (temp / cooling.t[s]) ** cooling.alpha[s]
        assert nxt[names.index("dt")] <= 1e-4 * temp / (cooling.rate * rho * lam) * (1 + 1e-9)


def test_constant_heating_adds_energy_linearly(tmp_path):
    """Cooling switched off in effect (gas below the table's active range: at the
    floor) and heating on: E(t) = E0 + Gamma V t exactly, the history balancing it."""
    heating = 1e-3  # code units
    sim, names, rows = run_box(tmp_path, {"table": TABLE, "temperature_floor": 1e9,
                                          "heating": heating}, tlim=2.0)
    energy, radiated = rows[:, names.index("energy")], rows[:, names.index("radiated")]
    volume = sim.mesh.cell_volume * sim.mesh.ncells
    np.testing.assert_allclose(energy - energy[0], heating * volume * rows[:, 0], rtol=1e-12)
    np.testing.assert_allclose(energy + radiated, energy[0], rtol=1e-13)


def test_shipped_cie_table_is_physical():
    """Sutherland & Dopita (1993) solar CIE: line cooling peaks near 10^5.3 K at about
    1e-21 erg cm^3/s; without metals the hot end is bremsstrahlung, 1.42e-27 g_ff
    T^1/2 n_e sum(Z^2 n_i) / n_H^2 (Rybicki & Lightman eq. 5.15b, g_ff = 1.2,
    He/H = 0.064), to 0.05 dex; Z scales the metal part."""
    t, solar = shipped_table("sd93").T
    _, zero = shipped_table("sd93", metallicity=0.0).T
    _, triple = shipped_table("sd93", metallicity=3.0).T
    peak = np.argmax(solar)
    assert 10 ** 5.1 < t[peak] < 10 ** 5.5 and 5e-22 < solar[peak] < 3e-21
    hot = t >= 1e8
    y_he = 0.064
    free_free = 1.42e-27 * 1.2 * np.sqrt(t[hot]) * (1 + 2 * y_he) * (1 + 4 * y_he)
    np.testing.assert_allclose(np.log10(zero[hot]), np.log10(free_free), atol=0.05)
    assert np.all(zero <= solar) and np.all(solar < triple)
    np.testing.assert_allclose(triple, zero + 3.0 * (solar - zero), rtol=1e-14)


@pytest.mark.parametrize("metallicity", [1.0, 0.3])
def test_shipped_table_agrees_with_a_converged_explicit_integration(metallicity):
    """Hot gas cooling through the line peak (3e6 K -> 3e4 K): the exact scheme in
    one step against RK45 on the same piecewise power law."""
    cooling = Cooling("sd93", UnitSystem(), MU, X, GAMMA, 1e4, metallicity=metallicity)
    log_t, log_lam = np.log(cooling.t), np.log(cooling.lam)
    rho, t_init = 1e-23, 3e6
    lo, hi = 0.0, cooling.cooling_time(_cell_u(cooling, rho, t_init), CELL)
    for _ in range(60):  # the time to reach 3e4 K
        total = 0.5 * (lo + hi)
        lo, hi = (total, hi) if cool_cell(cooling, rho, t_init, total, 1) > 3e4 else (lo, total)

    def rhs(_, y):
        return [-cooling.rate * rho * np.exp(np.interp(np.log(y[0]), log_t, log_lam))]

    explicit = solve_ivp(rhs, (0.0, total), [t_init], method="RK45", rtol=1e-10,
                         atol=1e-3, max_step=total / 1000).y[0, -1]
    exact = cool_cell(cooling, rho, t_init, total, 1)
    assert exact == pytest.approx(3e4, rel=1e-6)
    assert exact == pytest.approx(explicit, rel=1e-3)


def _cell_u(cooling, rho, temp):
    u = np.zeros((5, 1, 1, 1))
    u[0] = rho
    u[4] = rho * temp / cooling.t_to_k / (GAMMA - 1.0)
    return u


def power_law_time(t_from, t_to, t_k, lam_k, alpha, c_rho):
    """Time for dT/dt = -c_rho Lambda_k (T / T_k)^alpha to take T from t_from to t_to:
    with y = T / T_k, y^(1 - alpha) falls linearly at (1 - alpha) c_rho Lambda_k / T_k,
    and ln y at c_rho Lambda_k / T_k for alpha = 1."""
    rate = c_rho * lam_k / t_k
    if alpha == 1.0:
        return np.log(t_from / t_to) / rate
    e = 1.0 - alpha
    return ((t_from / t_k) ** e - (t_to / t_k) ** e) / (e * rate)


def power_law_temperature(t_from, time, t_k, lam_k, alpha, c_rho):
    """T after ``time`` on one power-law segment (the inverse of ``power_law_time``)."""
    rate = c_rho * lam_k / t_k
    if alpha == 1.0:
        return t_from * np.exp(-rate * time)
    e = 1.0 - alpha
    return t_k * ((t_from / t_k) ** e - e * rate * time) ** (1.0 / e)


@pytest.mark.parametrize("alpha_low", [-0.5, 1.0, 3.0])
@pytest.mark.parametrize("alpha_high", [-0.7, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("steps", [1, 3])
def test_crossing_a_table_node_is_exact(alpha_low, alpha_high, steps):
    """Two power-law segments meeting at 1e6 K: from 4e6 K the gas reaches the node
    after t_1 on the upper segment's law and then 1e5 K after t_2 on the lower
    one's (both in closed form), so after t_1 + t_2 it must be at 1e5 K, to 1e-10,
    however many steps cross the node (continuing the upper segment's law past the
    node would be off by tens of percent)."""
    t_node, lam_node, rho = 1e6, 1e-22, 1e-24
    table = [[1e4, lam_node * (1e4 / t_node) ** alpha_low], [t_node, lam_node],
             [1e8, lam_node * (1e8 / t_node) ** alpha_high]]
    cooling = Cooling(table, UnitSystem(), MU, X, GAMMA, 1e4)
    c_rho = cooling.rate * rho
    total = (power_law_time(4e6, t_node, t_node, lam_node, alpha_high, c_rho)
             + power_law_time(t_node, 1e5, t_node, lam_node, alpha_low, c_rho))
    assert cool_cell(cooling, rho, 4e6, total, steps) == pytest.approx(1e5, rel=1e-10)


@pytest.mark.parametrize("alpha", [-0.5, 0.5, 1.0, 3.0])
def test_floor_reached_within_one_table_segment(alpha):
    """The floor (2e4 K) inside the table's first segment (from 1e4 K) and a step
    from 8e4 K that would take the gas, on that segment's power law, to 1.2e4 K:
    still on the segment, below the floor.  The cell ends on the floor exactly, and
    the energy removed is the thermal energy between 8e4 and 2e4 K.  A step a
    little shorter than the time to the floor ends above it, on the power law."""
    lam_k, t_k, rho, t_floor, t_init = 1e-22, 1e4, 1e-24, 2e4, 8e4
    table = [[t_k, lam_k], [1e6, lam_k * (1e6 / t_k) ** alpha]]
    cooling = Cooling(table, UnitSystem(), MU, X, GAMMA, t_floor)
    c_rho = cooling.rate * rho
    past_floor = power_law_time(t_init, 1.2e4, t_k, lam_k, alpha, c_rho)
    assert cool_cell(cooling, rho, t_init, past_floor, 1) == pytest.approx(t_floor, rel=1e-12)
    u = _cell_u(cooling, rho, t_init)
    cooling.apply(None, u, CELL, 0.0, past_floor, None)
    thermal = _cell_u(cooling, rho, t_init)[4, 0, 0, 0]
    assert cooling.removed[0, 0, 0] == pytest.approx(thermal * (1.0 - t_floor / t_init),
                                                     rel=1e-12, abs=0.0)
    short = 0.9 * power_law_time(t_init, t_floor, t_k, lam_k, alpha, c_rho)
    exact = power_law_temperature(t_init, short, t_k, lam_k, alpha, c_rho)
    assert t_floor < exact < 0.9 * t_init
    assert cool_cell(cooling, rho, t_init, short, 1) == pytest.approx(exact, rel=1e-10)


def test_cooling_rate_from_first_principles():
    """The rate itself, not through ``cooling.rate``: gas of rho = 1e-24 g/cm^3 at
    T = 1e6 K (a table node, Lambda = 2e-22 erg cm^3/s) in cgs code units loses
    n_H^2 Lambda per volume and time, n_H = X rho / m_H, over a step of 1e-8 of its
    cooling time, with its pressure p = rho k_B T / (mu m_H) set from constants
    written here: m_H = 1.00794 u (CODATA 2018 u = 1.66053906660e-24 g), k_B =
    1.380649e-16 erg/K (SI 2019).  Within 1e-4: hydro takes m_H = 1.007947 u, which
    moves n_H^2 and T, and so Lambda(T), by 1.7e-5 in all (a missing factor X,
    mu or gamma - 1 is off by 40% or more)."""
    m_h, k_b = 1.00794 * 1.66053906660e-24, 1.380649e-16
    rho, temp, lam = 1e-24, 1e6, 2e-22
    cooling = Cooling(TABLE, UnitSystem(), MU, X, GAMMA, 1e4)
    u = np.zeros((5, 1, 1, 1))
    u[0] = rho
    u[4] = rho * k_b * temp / (MU * m_h) / (GAMMA - 1.0)
    loss = (X * rho / m_h) ** 2 * lam  # erg / (cm^3 s)
    dt = 1e-8 * u[4, 0, 0, 0] / loss
    cooling.apply(None, u, CELL, 0.0, dt, None)
    assert cooling.removed[0, 0, 0] / dt == pytest.approx(loss, rel=1e-4, abs=0.0)
