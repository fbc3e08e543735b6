"""Static gravity: hydrostatic equilibrium at second order, total energy with the
potential conserved to round-off."""

import numpy as np
import pytest

from common import primitive, simulate
from hydro.io import history

HYDROSTATIC = {"problem": "hydrostatic",
               "mesh": {"xmin": [-1, -1], "xmax": [1, 1], "boundary": ["user", "user"]},
               "time": {"tlim": 0.5}, "output": {"snapshots": False, "history_dt": 1.0},
               "problem_params": {"G": 1.0, "mass": 0.3, "softening": 0.2,
                                  "cluster_mass": 0.5, "cluster_radius": 0.5,
                                  "center": [0.05, 0.02, 0.0]}}


def _hydrostatic_errors(n, tmp_path, **hydro):
    params = dict(HYDROSTATIC, mesh=dict(HYDROSTATIC["mesh"], nx=[n, n]), hydro=hydro)
    sim = simulate(params, tmp_path / f"{n}")
    rho = primitive(sim, "density")
    speed = np.sqrt(primitive(sim, "velocity_x") ** 2 + primitive(sim, "velocity_y") ** 2)
    s = sim.states[0]
    initial = np.zeros_like(s.w)
    sim.module.initial_conditions(initial, s.block, sim.mesh, sim.p, sim.system.gamma)
    return np.mean(np.abs(rho - initial[(0,) + s.block.active])), np.mean(speed)


@pytest.mark.parametrize("hydro", [{}, {"reconstruction": "ppm", "integrator": "rk3"}],
                         ids=["plm-vl2", "ppm-rk3"])
def test_hydrostatic_equilibrium_holds_at_second_order(hydro, tmp_path):
    """An isothermal atmosphere in a softened point mass plus a Hernquist cluster,
    off-centre in the grid, after half a sound crossing: the departures in density
    and velocity are truncation errors falling at second order (a source that
    is first order, or not balanced, falls at first order or not at all)."""
    errors = np.array([_hydrostatic_errors(n, tmp_path, **hydro) for n in (32, 64, 128)])
    orders = np.log2(errors[:-1] / errors[1:])
    print(f"L1(rho), mean |v|: {errors.tolist()}, orders {orders.tolist()}")
    assert np.all(orders >= 1.8), (errors, orders)
    assert errors[0, 0] < 1e-2  # of a central density 1


PERIODIC_WELL = """
import numpy as np
from hydro.core.problem import Parameter
PARAMETERS = []
def potential(x, y, z, p):
    return 0.3 * np.sin(2 * np.pi * x) * np.cos(2 * np.pi * y)
def initial_conditions(w, block, mesh, p, gamma):
    x, y, z = block.coordinates()
    a = block.active
    w[0][a] = 1.0 + 0.2 * np.cos(2 * np.pi * x) + 0 * y
    w[1][a] = 0.3 * np.sin(2 * np.pi * y) + 0 * x
    w[4][a] = 1.0
"""


@pytest.mark.parametrize("integrator", ["vl2", "rk3"])
def test_total_energy_with_the_potential_is_conserved(integrator, tmp_path):
    """A periodic potential in a periodic box, gas sloshing in it: E + rho Phi
    stays constant to round-off while E itself changes by percents."""
    (tmp_path / "periodic_well.py").write_text(PERIODIC_WELL)
    sim = simulate({"problem": str(tmp_path / "periodic_well.py"),
                    "mesh": {"nx": [32, 24], "boundary": ["periodic", "periodic"]},
                    "hydro": {"integrator": integrator},
                    "time": {"tlim": 0.3}, "output": {"snapshots": False}}, tmp_path)
    names, rows = history.read(sim.history.path)
    energy = np.array(rows)[:, names.index("energy")]
    s = sim.states[0]
    phi = next(src for src in sim.sources if hasattr(src, "potential_on")).potential_on(s.block)
    initial = np.zeros_like(s.w)
    sim.module.initial_conditions(initial, s.block, sim.mesh, sim.p, sim.system.gamma)
    volume = sim.mesh.cell_volume
    work = [np.sum(rho[s.block.active] * phi[s.block.active]) * volume
            for rho in (initial[0], s.u[0])]
    assert abs(energy[-1] - energy[0]) > 1e-2 * abs(energy[0])  # gravity did work
    assert energy[-1] + work[1] == pytest.approx(energy[0] + work[0], rel=1e-13)
