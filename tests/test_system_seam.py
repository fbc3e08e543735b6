"""The seam between the driver and the systems of equations (``hydro.core.system``).

A toy system, registered from this test and named by a problem module written
here, runs through the real driver: its own state, time step, stepper (not the
Euler integrator), output field and history column.  If the driver needed
anything of Euler's (gamma, primitives named density and pressure, floors,
flux-correction counters), these runs would fail.  Linear advection of one
quantity q at speed c by first-order upwind with c dt = dx moves the profile
exactly one cell per cycle (integer values: no rounding), so after one crossing
of the periodic box the profile is back, bit for bit.
"""

import math
import subprocess
import sys

import h5py
import numpy as np
import pytest

from hydro.core import config, system
from hydro.io import history
from hydro.core.driver import Simulation
from common import simulate

PROBLEM = '''"""A square pulse of q carried once round a periodic box (the system seam's test)."""
import numpy as np

SYSTEM = "toy_advection"
SPEED = 2.0
PARAMETERS = []


def initial_conditions(u, block, mesh, p):
    x = block.coordinates()[0]
    u[(0,) + block.active] = np.where(abs(x - 0.5) < 0.25, 3.0, 1.0)
'''


class Advection(system.System):
    """dq/dt + c dq/dx = 0 in 1D, first-order upwind (c > 0)."""

    name = "toy_advection"
    nvar = 1
    nghost = 1
    conserved_names = ("q",)
    step_rule = "the advection speed"
    config_blocks = ("hydro",)  # it takes its Courant number from hydro.cfl

    def __init__(self, speed, cfl):
        self.speed = speed
        self.cfl = cfl

    @classmethod
    def from_config(cls, cfg, module):
        return cls(module.SPEED, cfg["hydro"]["cfl"])

    def initial_state(self, module, w, u, block, mesh, p):
        module.initial_conditions(u, block, mesh, p)

    def primitives(self, u, w, block, ndim=0):
        active = (slice(None),) + block.active
        w[active] = u[active]
        return block.dx[0] / self.speed if np.isfinite(u[active]).all() else math.nan

    def make_integrator(self, boundaries, sources, ndim):
        return Upwind(self.speed)

    def history_unit(self, column):
        return "code_length"  # q dx with q dimensionless


class Upwind:
    """One forward-Euler upwind step per cycle; w holds q with ghosts filled."""

    combines = False

    def __init__(self, speed):
        self.speed = speed

    def advance(self, state, t, dt):
        b = state.block
        i0, i1 = b.ng[0], b.ng[0] + b.nx[0]
        q = state.w[0, :, :, i0 - 1:i1]
        courant = self.speed * dt / b.dx[0]
        state.u[0, :, :, i0:i1] = q[..., 1:] - courant * (q[..., 1:] - q[..., :-1])


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setitem(system.SYSTEMS, Advection.name, Advection)
    path = tmp_path / "toy_pulse.py"
    path.write_text(PROBLEM)
    return {"problem": str(path), "mesh": {"nx": [32], "boundary": ["periodic"]},
            "hydro": {"cfl": 1.0}, "time": {"tlim": 0.5},
            "output": {"dt": 0.25, "history_dt": 0.125}}


def test_toy_system_runs_through_the_driver(toy, tmp_path):
    sim = simulate(toy, tmp_path / "run")
    assert isinstance(sim.system, Advection)
    assert sim.cycle == 32 and sim.time == 0.5  # c t = 1: once round the box
    x = sim.states[0].block.coordinates()[0]
    start = np.where(abs(x - 0.5) < 0.25, 3.0, 1.0)
    assert np.array_equal(sim.states[0].u[(0,) + sim.states[0].block.active], start)
    names, rows = history.read(str(tmp_path / "run" / "toy_pulse.hst"))
    assert names == ["time", "dt", "cycle", "q"]
    assert [r[3] for r in rows] == [2.0] * len(rows)  # q dx summed: 16 cells of 3, 16 of 1
    with h5py.File(tmp_path / "run" / "toy_pulse.00001.h5") as f:
        grid = f["data/grid_0000000000"]
        assert list(grid) == ["q"]
        assert grid["q"].size == 32
    # a restart from the middle snapshot gives the same bits as the run through
    output = {**toy["output"], "dir": str(tmp_path / "run")}
    cfg, module = config.resolve({**toy, "output": output})
    again = Simulation(cfg, module, restart=str(tmp_path / "run" / "toy_pulse.00001.h5"))
    again.run(restarted=True)
    assert again.cycle == 32
    assert np.array_equal(again.states[0].u, sim.states[0].u)


def test_unknown_system_is_bad_input(toy, tmp_path):
    path = tmp_path / "toy_pulse.py"
    path.write_text(PROBLEM.replace('"toy_advection"', '"toy_advektion"'))
    with pytest.raises(config.ConfigError, match="SYSTEM = 'toy_advektion' is not a known "
                                                 "system; did you mean 'toy_advection'"):
        config.resolve(toy)


def test_driver_imports_no_system():
    """The driver loads a system's module only when a run asks for it."""
    code = "import sys, hydro.core.driver; print('hydro.euler.system' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
