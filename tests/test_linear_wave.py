"""Sound wave after one period: second-order convergence of every second-order scheme."""

import math

import numpy as np
import pytest

from common import l1, primitive, simulate


def wave_error(n, reconstruction, integrator, tmp_path, riemann="hllc"):
    """L1 density error after one period (the exact solution is the initial state)."""
    params = {
        "problem": "linear_wave",
        "mesh": {"nx": [n], "boundary": ["periodic"]},
        "hydro": {"gamma": 5.0 / 3.0, "cfl": 0.4, "reconstruction": reconstruction,
                  "integrator": integrator, "riemann": riemann},
        "time": {"tlim": 1.0},
        "output": {"snapshots": False},
        "problem_params": {"amplitude": 1e-6},
    }
    sim = simulate(params, tmp_path)
    x = (np.arange(n) + 0.5) / n
    return l1(primitive(sim, "density")[0, 0], 1.0 + 1e-6 * np.sin(2 * np.pi * x))


@pytest.mark.parametrize("integrator", ["vl2", "rk2", "rk3"])
@pytest.mark.parametrize("reconstruction", ["plm", "ppm"])
def test_second_order_convergence(reconstruction, integrator, tmp_path):
    errors = [wave_error(n, reconstruction, integrator, tmp_path) for n in (32, 64, 128)]
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert min(orders) >= 1.9, (errors, orders)


def test_first_order_is_first_order(tmp_path):
    """PCM converges at first order: a check that the test above can tell orders apart."""
    errors = [wave_error(n, "pcm", "rk2", tmp_path) for n in (64, 128)]
    assert 0.8 < math.log2(errors[0] / errors[1]) < 1.2
