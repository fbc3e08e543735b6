"""The source-term mechanism, and problem set-ups that promise exact totals."""

import types

import numpy as np
import pytest

from common import primitive, simulate
from hydro.core import config
from hydro.io import history
from hydro.core.driver import Simulation
from hydro.sources import SourceTerm


class UniformAcceleration(SourceTerm):
    """d(rho v)/dt = rho g, dE/dt = rho v g along x."""

    def __init__(self, g):
        self.g = g

    def apply(self, w, u, block, t, dt, mass_flux):
        a = block.active
        u[1][a] += dt * w[0][a] * self.g
        u[4][a] += dt * w[0][a] * w[1][a] * self.g


@pytest.mark.parametrize("integrator", ["vl2", "rk2", "rk3"])
def test_source_terms_enter_every_stage(integrator, tmp_path):
    """Gas at rest in a periodic box under uniform acceleration g: v = g t and
    E - E0 = rho (g t)^2 / 2 exactly for a second-order integrator."""
    g, t = 0.5, 0.3
    cfg, module = config.resolve({
        "problem": "linear_wave", "mesh": {"nx": [16, 8], "boundary": ["periodic"] * 2},
        "hydro": {"integrator": integrator}, "time": {"tlim": t},
        "output": {"dir": str(tmp_path), "snapshots": False},
        "problem_params": {"amplitude": 0.0}})
    accelerated = types.SimpleNamespace(**vars(module),
                                        source_terms=lambda p: [UniformAcceleration(g)])
    sim = Simulation(cfg, accelerated)
    sim.run()
    assert np.allclose(primitive(sim, "velocity_x"), g * t, rtol=1e-13, atol=0)
    names, rows = history.read(sim.history.path)
    e = names.index("energy")
    assert rows[-1][e] - rows[0][e] == pytest.approx(0.5 * (g * t) ** 2, rel=1e-12)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_sedov_deposits_exactly_the_energy(ndim, tmp_path):
    n = {1: 64, 2: 32, 3: 16}[ndim]
    sim = simulate({"problem": "sedov", "mesh": {"nx": [n] * ndim},
                    "time": {"tlim": 1e-6, "nlim": 1}, "output": {"snapshots": False},
                    "problem_params": {"energy": 2.5, "radius": 0.2, "p0": 1e-3}}, tmp_path)
    names, rows = history.read(sim.history.path)
    thermal_ambient = 1e-3 / (5.0 / 3.0 - 1.0)  # unit volume
    assert rows[0][names.index("energy")] == pytest.approx(2.5 + thermal_ambient, rel=1e-13)
