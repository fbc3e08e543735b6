"""A supernova remnant in a uniform medium against Truelove & McKee (1999)."""

import numpy as np
import pytest

from common import simulate
from hydro.io import gdf
from hydro.problems.snr import core_velocity
from truelove_mckee import ejecta_profile, forward_shock, reverse_shock

W_CORE, R_EJ = 0.1, 0.1


def _fronts(path, gamma=5.0 / 3.0):
    """(time, forward shock, reverse shock): the outermost radius where the density
    exceeds twice the ambient one, and the innermost where the pressure exceeds
    a tenth of its maximum (the unshocked ejecta have cooled adiabatically)."""
    header, [(_, u)] = gdf.read_restart(path)
    rho = u[0].ravel()
    p = (gamma - 1.0) * (u[4] - 0.5 * (u[1] ** 2 + u[2] ** 2 + u[3] ** 2) / u[0]).ravel()
    r = (np.arange(rho.size) + 0.5) * 2.5 / rho.size
    k = np.nonzero(rho > 2.0)[0][-1]
    forward = r[k] + (r[k + 1] - r[k]) * (rho[k] - 2.0) / (rho[k] - rho[k + 1])
    reverse = r[np.nonzero(p > 0.1 * p.max())[0][0]]
    return header["time"], forward, reverse


@pytest.mark.parametrize("n", [7, 9])
def test_forward_and_reverse_shocks_match_truelove_mckee(n, tmp_path):
    """1D spherical, E = M_ej = rho_0 = 1 (R_ch = t_ch = 1), 1000 cells to 2.5 R_ch:
    forward shock at t = 0.3, 1, 3 t_ch and reverse shock at 0.3, 1 t_ch within 5%
    of TM99's approximations (the ejecta start at the age t0 = r_ej / v_ej)."""
    sim = simulate({"problem": "snr",
                    "mesh": {"nx": [1000], "xmin": [0.0], "xmax": [2.5],
                             "boundary": [["reflecting", "outflow"]],
                             "geometry": "spherical"},
                    "hydro": {"dual_energy": 1e-3, "pfloor": 1e-30},
                    "time": {"tlim": 3.0}, "output": {"dt": 0.1},
                    "problem_params": {"n": n, "w_core": W_CORE, "r_ej": R_EJ}}, tmp_path)
    # the ejecta's age at the start, from the tests' own derivation of the core speed
    t0 = R_EJ * W_CORE / ejecta_profile(n, W_CORE)["v_core"]
    checked = 0
    for path in sim.snapshots_written:
        t, forward, reverse = _fronts(path)
        age = t + t0
        if min(abs(t - s) for s in (0.3, 1.0, 3.0)) > 1e-9:
            continue
        print(f"n = {n}, t = {t:.1f}: forward {forward:.4f} "
              f"({forward / forward_shock(age, n) - 1:+.3f}), reverse {reverse:.4f}")
        assert forward == pytest.approx(forward_shock(age, n), rel=0.05)
        if t < 2.0:  # the reverse shock has reached the centre by 3 t_ch
            assert reverse == pytest.approx(reverse_shock(age, n), rel=0.05)
        checked += 1
    assert checked == 3
    assert sim.system.floors["density"] == 0


@pytest.mark.parametrize("n", [7, 9])
def test_reference_formulas_are_consistent(n):
    """The tabulated TM99 numbers follow from (l_ED, phi_ED) to the table's precision,
    and the problem's core velocity agrees with an independent derivation of the
    core + envelope integrals."""
    from truelove_mckee import TM99_TABLE, derived_parameters
    derived, table = derived_parameters(n), TM99_TABLE[n]
    for key in ("t_ST", "R_ST", "t_core", "R_core", "v_core"):
        assert derived[key] == pytest.approx(table[key], rel=0.02), key
    for w_core in (0.1, 0.3):
        assert ejecta_profile(n, w_core)["v_core"] == \
            pytest.approx(core_velocity(1.0, 1.0, n, w_core), rel=1e-12)
