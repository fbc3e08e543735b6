"""Conservation to round-off with periodic boundaries, and mirror symmetry of a blast."""

import numpy as np
import pytest

from common import primitive, simulate


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("scheme", [("plm", "hllc", "vl2"), ("ppm", "exact", "rk3"),
                                    ("pcm", "llf", "rk2"), ("plm", "hlle", "rk2")])
def test_periodic_totals_conserved(ndim, scheme, tmp_path):
    """Mass, momenta, energy and a scalar change by < 1e-12 (relative) over 100 cycles
    of an off-centre blast moving diagonally through a periodic box."""
    n = {1: 64, 2: 24, 3: 12}[ndim]
    params = {
        "problem": "kelvin_helmholtz" if ndim == 2 else "blast",
        "mesh": {"nx": [n] * ndim, "boundary": ["periodic"] * ndim},
        "hydro": dict(zip(("reconstruction", "riemann", "integrator"), scheme)),
        "time": {"tlim": 100.0, "nlim": 100},
        "output": {"snapshots": False},
    }
    sim = simulate(params, tmp_path)
    names, rows = _history(sim)
    first, last = np.array(rows[0]), np.array(rows[-1])
    assert last[names.index("cycle")] == 100
    for name in ("mass", "momentum_x", "momentum_y", "momentum_z", "energy") + sim.system.scalars:
        col = names.index(name)
        # scale: the total of |q| (momenta may sum to zero)
        scale = max(abs(first[col]), abs(first[names.index("mass")]))
        assert abs(last[col] - first[col]) <= 1e-12 * scale, name


def _history(sim):
    from hydro.io import history
    return history.read(sim.history.path)


def test_blast_stays_mirror_symmetric(tmp_path):
    """A centred 2D blast stays mirror-symmetric about both axes to round-off."""
    params = {
        "problem": "blast",
        "mesh": {"nx": [64, 64], "xmin": [-0.5, -0.5], "xmax": [0.5, 0.5],
                 "boundary": ["reflecting", "outflow"]},
        "hydro": {"gamma": 5.0 / 3.0, "cfl": 0.4},
        "time": {"tlim": 0.1},
        "output": {"snapshots": False},
    }
    sim = simulate(params, tmp_path)
    rho = primitive(sim, "density")[0]
    vx = primitive(sim, "velocity_x")[0]
    assert rho.std() > 0.05  # the blast has moved
    for axis in (0, 1):
        mirrored = np.flip(rho, axis=axis)
        assert np.abs(rho - mirrored).max() <= 1e-12 * rho.max()
    assert np.abs(vx + np.flip(vx, axis=1)).max() <= 1e-12 * np.abs(vx).max()
    assert np.abs(rho - rho.T).max() <= 1e-12 * rho.max()  # and about the diagonal


def test_scalar_stays_a_concentration(tmp_path):
    """The dye of the KH run, advected with the mass flux, stays within [0, 1]."""
    sim = simulate({"problem": "kelvin_helmholtz", "mesh": {"nx": [64, 64],
                    "boundary": ["periodic"] * 2}, "time": {"tlim": 1.0},
                    "output": {"snapshots": False}}, tmp_path)
    dye = primitive(sim, "dye")
    assert 0.1 < dye.mean() < 0.9
    assert dye.min() >= -1e-12 and dye.max() <= 1.0 + 1e-12


def test_floors_are_counted_and_reported(tmp_path, caplog):
    """A density floor above the right state of Sod must act, be counted and logged."""
    import logging
    params = {"problem": "sod", "mesh": {"nx": [100]}, "hydro": {"dfloor": 0.2},
              "time": {"tlim": 0.1}, "output": {"snapshots": False}}
    with caplog.at_level(logging.INFO, logger="hydro"):
        from hydro.core import config
        from hydro.core.driver import Simulation
        cfg, module = config.resolve(params | {"output": {"dir": str(tmp_path),
                                                          "snapshots": False}})
        sim = Simulation(cfg, module)
        sim.run()
    assert sim.system.floors["density"] > 0
    assert f"floors applied: density {sim.system.floors['density']}" in caplog.text
    assert primitive(sim, "density").min() >= 0.2
