"""Time-dependent sources and boundaries are evaluated at each stage's own time.

A source or boundary that depends only on time is integrated by an integrator
as a quadrature rule: with a stage at time t + c dt entering the new state
with weight b, one step adds dt sum_i b_i f(t + c_i dt).  The integrators of
``hydro.euler.integrator`` (Shu & Osher 1988; Stone & Gardiner 2009) make

    vl2:  f(t + dt/2)                               (midpoint rule)
    rk2:  (f(t) + f(t + dt)) / 2                    (trapezoidal rule)
    rk3:  (f(t) + f(t + dt) + 4 f(t + dt/2)) / 6    (Simpson's rule)

so the total after many steps must be the exact integral within the rule's
error bound: T max(dt)^2 max|f''| / 24 (midpoint), / 12 (trapezoid), and
T max(dt)^4 max|f''''| / 2880 (Simpson on half steps), the composite rules'
error terms (e.g. Atkinson 1989, An Introduction to Numerical Analysis, 2nd
ed., ch. 5).  A stage evaluated at a wrong time leaves a first-order rule, an
error of order dt, which these bounds exclude by a wide margin.
"""

import math
import types

import numpy as np
import pytest

from common import simulate
from hydro.core import config
from hydro.io import history
from hydro.core.driver import Simulation
from hydro.sources import SourceTerm

INTEGRATORS = ["vl2", "rk2", "rk3"]


def quadrature_bound(integrator, span, dt_max, amplitude, omega):
    """The error bound of the integrator's rule for amplitude cos(omega t) or
    amplitude sin(omega t) integrated over ``span`` (|f^(n)| <= amplitude omega^n)."""
    if integrator == "rk3":
        return span * dt_max ** 4 * amplitude * omega ** 4 / 2880.0
    midpoint = integrator == "vl2"
    return span * dt_max ** 2 * amplitude * omega ** 2 / (24.0 if midpoint else 12.0)


class CosineHeating(SourceTerm):
    """Uniform heating dE/dt = A cos(omega t) per unit volume, unsplit: the gas in a
    periodic box stays uniform, so only the stage times decide the total."""

    def __init__(self, amplitude, omega):
        self.amplitude, self.omega = amplitude, omega

    def apply(self, w, u, block, t, dt, mass_flux):
        u[(4,) + block.active] += dt * self.amplitude * math.cos(self.omega * t)


class SplitCosineHeating(CosineHeating):
    """The same heating operator split: called once per cycle from t over dt, it adds
    the exact integral A (sin(omega (t + dt)) - sin(omega t)) / omega."""

    operator_split = True

    def apply(self, w, u, block, t, dt, mass_flux):
        gained = self.amplitude * (math.sin(self.omega * (t + dt))
                                   - math.sin(self.omega * t)) / self.omega
        u[(4,) + block.active] += gained


def heated_box(integrator, source, tlim, tmp_path):
    """A periodic box of gas at rest (rho = 1, c = 1) with ``source``; its energy history."""
    cfg, module = config.resolve({
        "problem": "linear_wave", "mesh": {"nx": [8], "boundary": ["periodic"]},
        "hydro": {"integrator": integrator, "cfl": 0.8}, "time": {"tlim": tlim},
        "output": {"dir": str(tmp_path), "snapshots": False},
        "problem_params": {"amplitude": 0.0}})
    heated = types.SimpleNamespace(**vars(module), source_terms=lambda p: [source])
    sim = Simulation(cfg, heated)
    sim.run()
    names, rows = history.read(sim.history.path)
    rows = np.array(rows)
    return rows[:, names.index("energy")], rows[:, names.index("dt")]


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_time_dependent_source_at_the_stage_times(integrator, tmp_path):
    """E(T) - E(0) = A sin(omega T) / omega (unit volume) within the integrator's
    quadrature bound, and the steps are long enough for a wrong stage time to show
    (an error of about dt A |cos(omega T) - 1| / 2 = 5e-3 for the left-point rule)."""
    amplitude, omega, tlim = 0.05, 3.0, 1.3
    energy, dt = heated_box(integrator, CosineHeating(amplitude, omega), tlim, tmp_path)
    exact = amplitude * math.sin(omega * tlim) / omega
    error = abs(energy[-1] - energy[0] - exact)
    bound = quadrature_bound(integrator, tlim, dt.max(), amplitude, omega)
    print(f"{integrator}: error {error:.3e}, bound {bound:.3e}, max dt {dt.max():.3e}")
    assert dt.max() > 0.05
    assert error <= bound + 1e-14


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_operator_split_source_gets_the_cycle_start(integrator, tmp_path):
    """An operator-split source is called with the cycle's start time and full step,
    so one that integrates itself exactly gives the exact total to round-off."""
    amplitude, omega, tlim = 0.05, 3.0, 1.3
    energy, _ = heated_box(integrator, SplitCosineHeating(amplitude, omega), tlim, tmp_path)
    exact = amplitude * math.sin(omega * tlim) / omega
    assert energy[-1] - energy[0] == pytest.approx(exact, rel=1e-12)


INFLOW = '''
"""Supersonic flow entering at x = 0 with density 1 + A sin(omega t)."""
import math
from hydro.core.boundary import ghost_slice
from hydro.core.problem import Parameter

PARAMETERS = [Parameter("amplitude", 0.5, "", "density amplitude A"),
              Parameter("omega", 4.0, "", "angular frequency")]
SPEED, PRESSURE = 1.5, 0.1


def initial_conditions(w, block, mesh, p, gamma):
    w[0][block.active] = 1.0
    w[1][block.active] = SPEED
    w[4][block.active] = PRESSURE


def boundary(w, block, axis, side, t, p, gamma):
    ghosts = ghost_slice(block, axis, side)[1:]
    w[(slice(None),) + ghosts] = 0.0
    w[(0,) + ghosts] = 1.0 + p.amplitude * math.sin(p.omega * t)
    w[(1,) + ghosts] = SPEED
    w[(4,) + ghosts] = PRESSURE
'''


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_time_dependent_inflow_at_the_stage_times(integrator, tmp_path):
    """Mach 3.7 inflow through a user boundary whose density is 1 + A sin(omega t).
    With piecewise constant reconstruction the flux through the face is the ghost
    state's own (the Riemann fan lies to its right), so the mass that entered by T
    is the integrator's quadrature of v (1 + A sin(omega t)); the outflow face, far
    ahead of the front, passes v rho_0 throughout.  The gain must be
    v A (1 - cos(omega T)) / omega within the quadrature bound."""
    (tmp_path / "inflow.py").write_text(INFLOW)
    amplitude, omega, speed, tlim = 0.5, 4.0, 1.5, 0.3
    sim = simulate({"problem": str(tmp_path / "inflow.py"),
                    "mesh": {"nx": [100], "boundary": [["user", "outflow"]]},
                    "hydro": {"gamma": 5.0 / 3.0, "integrator": integrator, "cfl": 0.8,
                              "reconstruction": "pcm", "riemann": "hllc"},
                    "time": {"tlim": tlim}, "output": {"snapshots": False},
                    "problem_params": {"amplitude": amplitude, "omega": omega}}, tmp_path)
    names, rows = history.read(sim.history.path)
    rows = np.array(rows)
    mass, dt = rows[:, names.index("mass")], rows[:, names.index("dt")]
    exact = speed * amplitude * (1.0 - math.cos(omega * tlim)) / omega
    error = abs(mass[-1] - mass[0] - exact)
    bound = quadrature_bound(integrator, tlim, dt.max(), speed * amplitude, omega)
    print(f"{integrator}: error {error:.3e}, bound {bound:.3e}, max dt {dt.max():.3e}")
    assert error <= bound + 1e-14
