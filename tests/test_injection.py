"""Mass and energy injection: the Chevalier & Clegg (1985) cluster wind and exact budgets."""

import pathlib

import numpy as np
import pytest

from chevalier_clegg import profiles
from common import cell_centres, primitive, simulate
from hydro.io import history

GAMMA = 5.0 / 3.0
RUNS = pathlib.Path(__file__).parent.parent / "runs"


def _budget(sim):
    names, rows = history.read(sim.history.path)
    return {name: np.array(rows)[:, names.index(name)] for name in names}


def _assert_budgets_close(sim):
    """In box + through the boundaries = at t = 0 + injected, to round-off."""
    h = _budget(sim)
    for name, injected in (("mass", "injected_mass"), ("energy", "injected_energy")):
        expected = h[name][0] + h[injected] - h[f"outflow_{name}"]
        np.testing.assert_allclose(h[name], expected, rtol=0, atol=1e-12 * h[injected][-1])
    return h


def test_cluster_wind_matches_chevalier_clegg(tmp_path):
    """1D spherical run to a steady state: density, velocity, pressure and Mach
    number within 2% of the analytic wind at 2 to 10 R, the speed at 8-10 R within
    2% of v_inf = sqrt(2 Edot / Mdot), and the budgets closed."""
    sim = simulate({"problem": "cluster_wind",
                    "mesh": {"nx": [300], "xmin": [0.0], "xmax": [12.0],
                             "boundary": [["reflecting", "outflow"]],
                             "geometry": "spherical"},
                    "time": {"tlim": 30.0}, "output": {"snapshots": False},
                    "problem_params": {"mdot": 1.0, "edot": 1.0, "radius": 1.0}}, tmp_path)
    r = cell_centres(sim)[0].ravel()
    rho, v, p = (primitive(sim, f).ravel() for f in ("density", "velocity_x", "pressure"))
    mach = v / np.sqrt(GAMMA * p / rho)
    sel = (r >= 2.0) & (r <= 10.0)
    exact = profiles(r[sel], 1.0, 1.0, 1.0, GAMMA)
    for name, numeric, analytic in zip(("rho", "v", "p", "M"), (rho, v, p, mach), exact):
        error = np.max(np.abs(numeric[sel] / analytic - 1.0))
        print(f"{name}: max relative error at 2-10 R {error:.2e}")
        assert error < 0.02, name
    far = (r >= 8.0) & (r <= 10.0)
    assert np.all(np.abs(v[far] / np.sqrt(2.0) - 1.0) < 0.02)
    assert primitive(sim, "wind")[0, 0, -1] > 0.999  # the wind has replaced the ambient gas
    _assert_budgets_close(sim)


@pytest.mark.parametrize("ndim", [2, 3])
def test_injection_adds_exactly_the_rates(ndim, tmp_path):
    """A sphere not aligned with the cells, partly cut by a reflecting domain face:
    the grid gains mdot t and edot t, to round-off, whatever the mask; once the wind
    leaves through the open faces the budgets still close."""
    n = {2: 40, 3: 20}[ndim]
    params = {"problem": "cluster_wind",
              "mesh": {"nx": [n] * ndim, "xmin": [0.0] * ndim, "xmax": [1.0] * ndim,
                       "boundary": [["reflecting", "outflow"]] + [["outflow"]*2] * (ndim - 1)},
              "time": {"tlim": 0.01}, "output": {"snapshots": False},
              "problem_params": {"mdot": 2.0, "edot": 3.0, "radius": 0.13,
                                 "center": [0.03, 0.47, 0.52][:ndim] + [0.0] * (3 - ndim),
                                 "rho_ambient": 1.0, "p_ambient": 1.0}}
    sim = simulate(params, tmp_path / "short")
    h = _assert_budgets_close(sim)
    # nothing has reached the open faces yet (the reflecting wall passes round-off)
    assert abs(h["outflow_mass"][-1]) < 1e-15 * h["injected_mass"][-1]
    assert h["mass"][-1] - h["mass"][0] == pytest.approx(2.0 * 0.01, rel=1e-12)
    assert h["energy"][-1] - h["energy"][0] == pytest.approx(3.0 * 0.01, rel=1e-12)
    params["time"]["tlim"] = 1.0
    params["problem_params"].update(rho_ambient=0.1, p_ambient=0.1)
    sim = simulate(params, tmp_path / "long")
    assert sim.system.floors == {"density": 0, "pressure": 0}  # floors do not conserve
    h = _assert_budgets_close(sim)
    assert h["outflow_mass"][-1] > 0.2 * h["injected_mass"][-1]  # the open faces count


def test_cluster_wind_run_file_in_physical_units(tmp_path):
    """runs/cluster_wind.yaml (Msun/yr, erg/s, pc into a cold ambient medium) at a
    quarter of its resolution: the step resolves the injected gas from the first
    cycle (no floors), and yt reads v_inf = sqrt(2 Edot / Mdot) = 1000 km/s far out."""
    import yaml
    import yt

    params = yaml.safe_load((RUNS / "cluster_wind.yaml").read_text())
    params["mesh"]["nx"] = [200]
    params["output"] = {"dir": str(tmp_path), "dt": None}
    sim = simulate(params, tmp_path)
    assert sim.system.floors == {"density": 0, "pressure": 0}
    ds = yt.load(sim.snapshots_written[-1])
    ad = ds.all_data()
    far = (ad["index", "r"].to("pc") > 8.0) & (ad["index", "r"].to("pc") < 9.5)
    speed = ad["gas", "velocity_r"][far].to("km/s").value
    np.testing.assert_allclose(speed, 1000.0, rtol=0.02)


def test_kinetic_wind_reaches_the_energy_speed(tmp_path):
    """Mass injected already moving out at v_w = 1 with edot = 0.6 mdot (0.5 of it
    kinetic): far out the wind moves at sqrt(2 edot / mdot) = 1.095 within 2%, and
    the budgets close."""
    (tmp_path / "kinetic_wind.py").write_text(KINETIC_WIND)
    sim = simulate({"problem": str(tmp_path / "kinetic_wind.py"),
                    "mesh": {"nx": [300], "xmin": [0.0], "xmax": [12.0],
                             "boundary": [["reflecting", "outflow"]],
                             "geometry": "spherical"},
                    "time": {"tlim": 30.0}, "output": {"snapshots": False}}, tmp_path)
    r = cell_centres(sim)[0].ravel()
    v = primitive(sim, "velocity_x").ravel()
    np.testing.assert_allclose(v[(r > 8.0) & (r < 10.0)], np.sqrt(1.2), rtol=0.02)
    _assert_budgets_close(sim)


KINETIC_WIND = """
from hydro.sources.injection import Region
PARAMETERS = []
def injection(p):
    return [Region((0.0, 0.0, 0.0), 1.0, mdot=1.0, edot=0.6, wind_speed=1.0)]
def initial_conditions(w, block, mesh, p, gamma):
    w[0][block.active] = 1e-4
    w[4][block.active] = 1e-6
"""


def _inject_once(ndim, region, n=24):
    """The conserved amounts one call of the injection source adds over dt = 1 to
    an empty Cartesian grid of n^ndim cells on the unit box, and the cell centres."""
    from hydro.sources.injection import Injection
    from hydro.core.mesh import Block, Mesh

    mesh = Mesh([n] * ndim, [0.0] * ndim, [1.0] * ndim, 2)
    block = Block((0, 0, 0), mesh.nx, mesh.ng, mesh.dx, mesh.xmin)
    u = np.zeros((5,) + block.shape)
    Injection([region], mesh).apply(None, u, block, 0.0, 1.0, None)
    active = (slice(None),) + block.active
    centres = np.broadcast_arrays(*block.coordinates())
    return u[active] * mesh.cell_volume, centres, mesh


@pytest.mark.parametrize("ndim", [2, 3])
def test_wind_moves_radially_from_the_region_centre(ndim):
    """A region off the grid's centre with wind speed v_w = 1.5: every cell's injected
    momentum is its injected mass times v_w along the unit vector from the region's
    centre to the cell's centre, to round-off; the totals are mdot, |p| = mdot v_w
    summed cell by cell, and edot (the wind's kinetic power is part of it)."""
    from hydro.sources.injection import Region

    centre = (0.31, 0.62, 0.47)
    region = Region(centre[:ndim] + (0.0,) * (3 - ndim), 0.2, mdot=2.0, edot=5.0,
                    wind_speed=1.5)
    added, centres, _ = _inject_once(ndim, region)
    mass, momentum, energy = added[0], added[1:4], added[4]
    offset = [c - centre[a] if a < ndim else np.zeros_like(c) for a, c in enumerate(centres)]
    distance = np.sqrt(sum(d ** 2 for d in offset))
    assert mass.sum() == pytest.approx(2.0, rel=1e-13)
    assert energy.sum() == pytest.approx(5.0, rel=1e-13)
    for a in range(3):
        np.testing.assert_allclose(momentum[a], mass * 1.5 * offset[a] / distance,
                                   rtol=0, atol=1e-14)
    assert np.sqrt(sum(p ** 2 for p in momentum)).sum() == pytest.approx(3.0, rel=1e-13)


@pytest.mark.parametrize("ndim", [2, 3])
def test_injection_fills_the_sphere_around_its_centre(ndim):
    """The injected mass lies in the cells the sphere touches, the cells wholly inside
    it get the full share (density mdot / (4/3 pi R^3), or mdot / (pi R^2) in 2D),
    and its centre of mass is the region's centre within 2% of a cell."""
    from hydro.sources.injection import Region

    centre, radius = (0.31, 0.62, 0.47)[:ndim] + (0.0,) * (3 - ndim), 0.2
    added, centres, mesh = _inject_once(ndim, Region(centre, radius, mdot=2.0, edot=5.0))
    mass = added[0]
    offset = [centres[a] - centre[a] for a in range(ndim)]
    distance = np.sqrt(sum(d ** 2 for d in offset))
    half_diagonal = 0.5 * mesh.dx[0] * np.sqrt(ndim)
    assert np.all(mass[distance > radius + half_diagonal] == 0.0)
    inside = distance < radius - half_diagonal
    volume = np.pi * radius ** 2 if ndim == 2 else 4.0 / 3.0 * np.pi * radius ** 3
    np.testing.assert_allclose(mass[inside] / mesh.cell_volume, 2.0 / volume, rtol=0.01)
    for a in range(ndim):
        centroid = np.sum(mass * centres[a]) / mass.sum()
        assert abs(centroid - centre[a]) < 0.02 * mesh.dx[a], (a, centroid)
