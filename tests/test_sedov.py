"""Sedov-Taylor blast in 3D against the self-similar shock radius R = xi0 (E t^2/rho0)^(1/5).

One octant of the blast is simulated (48^3 cells for a half-width of 0.5):
reflecting faces through the centre, outflow faces outside, an eighth of the
energy deposited.
xi0 = 1.1517 for gamma = 5/3 (Sedov 1959; Kamm & Timmes 2007, LA-UR-07-2849).
"""

import numpy as np
import pytest

from common import simulate
from hydro.io import gdf

XI0 = 1.1517
ENERGY = 1.0
RHO0 = 1.0


def shock_radius(path, n, extent):
    """Radius where the angle-averaged density falls halfway from its peak to rho0."""
    _, grids = gdf.read_restart(path)
    rho = grids[0][1][0]
    dx = extent / n
    c = (np.arange(n) + 0.5) * dx
    r = np.sqrt(c[None, None, :] ** 2 + c[None, :, None] ** 2 + c[:, None, None] ** 2)
    bins = np.arange(0.0, extent, dx)
    which = np.digitize(r.ravel(), bins)
    mean = np.bincount(which, rho.ravel()) / np.maximum(np.bincount(which), 1)
    centres = np.append(bins, extent) - 0.5 * dx
    peak = np.argmax(mean)
    half = 0.5 * (mean[peak] + RHO0)
    outside = peak + np.argmax(mean[peak:] < half)
    # linear interpolation of the half-height crossing between two bins
    f = (mean[outside - 1] - half) / (mean[outside - 1] - mean[outside])
    return centres[outside - 1] + f * dx


def test_sedov_shock_radius(tmp_path):
    n, extent = 48, 0.5
    times = [(r / XI0) ** 2.5 * (RHO0 / ENERGY) ** 0.5 for r in (0.25, 0.4)]
    params = {
        "problem": "sedov",
        "mesh": {"nx": [n] * 3, "xmin": [0.0] * 3, "xmax": [extent] * 3,
                 "boundary": [["reflecting", "outflow"]] * 3},
        "hydro": {"gamma": 5.0 / 3.0, "cfl": 0.3},
        "time": {"tlim": times[1]},
        "output": {"dt": times[0]},
        "problem_params": {"energy": ENERGY / 8, "radius": 0.035, "center": [0.0] * 3,
                           "rho0": RHO0, "p0": 1e-5},
    }
    sim = simulate(params, tmp_path)
    for index, t in ((1, times[0]), (len(sim.snapshots_written) - 1, times[1])):
        expected = XI0 * (ENERGY * t ** 2 / RHO0) ** 0.2
        measured = shock_radius(sim.snapshots_written[index], n, extent)
        assert measured == pytest.approx(expected, rel=0.03), (t, measured, expected)


@pytest.mark.parametrize("geometry, nx", [("spherical", [64]), ("cartesian", [32, 32, 32])])
def test_deposited_energy_is_the_parameter(geometry, nx, tmp_path):
    """The thermal energy put in above the ambient pressure is ``energy``, whatever the
    cells' volumes (shells 4 pi/3 (r_out^3 - r_in^3) in spherical symmetry)."""
    sim = simulate({"problem": "sedov", "mesh": {"nx": nx, "geometry": geometry},
                    "time": {"tlim": 1.0, "nlim": 0}, "output": {"snapshots": False},
                    "problem_params": {"energy": ENERGY, "radius": 0.1, "p0": 1e-5,
                                       "center": [0.0] if geometry == "spherical" else []}},
                   tmp_path)
    gamma = sim.system.gamma
    volume = 4.0 * np.pi / 3.0 if geometry == "spherical" else 1.0
    ambient = 1e-5 / (gamma - 1.0) * volume
    assert sim.totals()[4] - ambient == pytest.approx(ENERGY, rel=1e-12)
