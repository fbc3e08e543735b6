"""Boundary kinds: reflecting walls conserve, user hooks drive the flow, run files validate."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

from common import cell_centres, primitive, simulate
from hydro.io import history

RUNS = sorted((pathlib.Path(__file__).parent.parent / "runs").glob("*.yaml"))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_reflecting_box_conserves_mass_and_energy(ndim, tmp_path):
    """A blast in a closed box: nothing crosses reflecting walls."""
    n = {1: 64, 2: 32, 3: 16}[ndim]
    sim = simulate({"problem": "blast", "mesh": {"nx": [n] * ndim,
                                                 "boundary": ["reflecting"] * ndim},
                    "time": {"tlim": 0.3}, "output": {"snapshots": False}}, tmp_path)
    names, rows = history.read(sim.history.path)
    for name in ("mass", "energy"):
        col = names.index(name)
        assert abs(rows[-1][col] - rows[0][col]) <= 1e-12 * abs(rows[0][col])
    # the reflected blast is symmetric, so the net momentum stays zero
    for name in ("momentum_x", "momentum_y", "momentum_z"):
        assert abs(rows[-1][names.index(name)]) < 1e-12


def test_outflow_lets_a_shock_leave(tmp_path):
    """Sod run until the shock has left through the zero-gradient face: the gas at the
    boundary keeps the star pressure p* = 0.30313 (Toro Table 4.2) up to the weak
    reflection a zero-gradient boundary makes (2% measured); a wall would double it."""
    sim = simulate({"problem": "sod", "mesh": {"nx": [200], "boundary": ["outflow"]},
                    "hydro": {"gamma": 1.4}, "time": {"tlim": 0.4},
                    "output": {"snapshots": False}}, tmp_path)
    assert primitive(sim, "pressure")[0, 0, -1] == pytest.approx(0.30313, rel=0.03)


def test_user_boundaries_double_mach(tmp_path):
    """The double Mach reflection's user boundaries: the incident shock, driven only
    through the left and top ghost zones, sits on its exact line far from the wall."""
    t = 0.05
    sim = simulate({"problem": "double_mach",
                    "mesh": {"nx": [120, 30], "xmin": [0.0, 0.0], "xmax": [4.0, 1.0],
                             "boundary": [["user", "outflow"], "user"]},
                    "hydro": {"gamma": 1.4}, "time": {"tlim": t},
                    "output": {"snapshots": False}}, tmp_path)
    rho = primitive(sim, "density")[0]
    x, y, _ = cell_centres(sim)
    dx = 4.0 / 120
    for j in (20, 25, 29):  # rows in the upper part, away from the reflection
        exact = 1.0 / 6.0 + (y[0, j, 0] + 20.0 * t) / np.sqrt(3.0)
        jump = x[0, 0, np.argmax(rho[j] < 0.5 * (8.0 + 1.4))]
        assert abs(jump - exact) < 1.5 * dx, (j, jump, exact)


@pytest.mark.parametrize("path", RUNS, ids=[p.stem for p in RUNS])
def test_run_files_validate(path):
    out = subprocess.run([sys.executable, "-m", "hydro", "check", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
