"""1D spherical symmetry: the geometric pressure source balances the face areas,
and face areas and shell volumes agree, so nothing is made or lost.

In a shell [r-, r+] the flux divergence is (A+ F+ - A- F-) / V with A = 4 pi r^2
and V = 4 pi (r+^3 - r-^3) / 3, and the momentum equation gains
p (A+ - A-) / V (e.g. Mignone 2014, J. Comput. Phys. 270, 784, sec. 2).  Gas at
rest at uniform pressure must therefore stay at rest to round-off, and a closed
sphere must keep its mass and energy.
"""

import numpy as np
import pytest

from common import primitive, simulate
from hydro.io import history


@pytest.mark.parametrize("reconstruction", ["pcm", "plm", "ppm"])
def test_uniform_gas_at_rest_stays_at_rest(reconstruction, tmp_path):
    """rho = 1, p = 1/gamma, v = 0 on r in [0, 1]: after t = 0.5 (a sound crossing
    and a half) |v| and |p - p0| stay below 1e-13 (measured: about 1e-15); an
    unbalanced geometric source accelerates the gas by O(p / r) at once."""
    sim = simulate({"problem": "linear_wave",
                    "mesh": {"nx": [64], "boundary": [["reflecting", "outflow"]],
                             "geometry": "spherical"},
                    "hydro": {"reconstruction": reconstruction}, "time": {"tlim": 0.5},
                    "output": {"snapshots": False}, "problem_params": {"amplitude": 0.0}},
                   tmp_path)
    assert np.abs(primitive(sim, "velocity_x")).max() < 1e-13
    assert np.abs(primitive(sim, "pressure") - 0.6).max() < 1e-13


def test_closed_sphere_conserves_mass_and_energy(tmp_path):
    """A spherical shock tube (Sod's states, the jump at r = 0.5) between reflecting
    walls at r = 0.1 and r = 1: the volume integrals of mass and energy over the
    shells stay constant to 1e-12 while the waves cross the grid and reflect."""
    sim = simulate({"problem": "sod",
                    "mesh": {"nx": [100], "xmin": [0.1], "boundary": ["reflecting"],
                             "geometry": "spherical"},
                    "hydro": {"gamma": 1.4}, "time": {"tlim": 0.6},
                    "output": {"snapshots": False}}, tmp_path)
    names, rows = history.read(sim.history.path)
    rows = np.array(rows)
    assert np.abs(primitive(sim, "velocity_x")).max() > 0.05  # the gas did move
    for name in ("mass", "energy"):
        column = rows[:, names.index(name)]
        np.testing.assert_allclose(column, column[0], rtol=1e-12, err_msg=name)
