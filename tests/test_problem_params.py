"""Problem parameters are held to the values physics allows before anything runs.

A problem module declares bounds (``Parameter(..., low=0, low_open=True)``) and
checks (``check=``, for rules that involve other parameters or the grid); a
run file that breaks one is a configuration error like any other: exit 2, one
line naming ``problem_params.NAME``, nothing written, and nothing compiled
(the kernels' cache directory stays empty), for ``hydro check`` and ``hydro
run`` alike.  The rules named in the issue run as real subprocesses (in
parallel: each interpreter costs ~0.4 s); the long tail goes through
``hydro.core.config.resolve`` in-process.
"""

import os
import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import yaml

from hydro.core import config, problem
from test_cli import OUT, assert_config_error

RUNS = pathlib.Path(__file__).parent.parent / "runs"


def params(name, nx, geometry=None, **problem_params):
    mesh = {"nx": nx}
    if geometry:
        mesh.update(geometry=geometry, boundary=[["reflecting", "outflow"]])
    return {"problem": name, "mesh": mesh, "time": {"tlim": 0.01},
            "output": {"dir": OUT}, "problem_params": problem_params}


# -- the cases, through the command line -------------------------------------

CLI_CASES = {
    "negative-density": (params("sod", [32], rho_r=-0.125),
                         ["problem_params.rho_r", "must be > 0", "-0.125"]),
    "negative-energy": (params("sedov", [16, 16], energy=-1.0),
                        ["problem_params.energy", "must be > 0"]),
    "snr-n-5": (params("snr", [64], "spherical", n=5),
                ["problem_params.n", "must be > 5"]),
    "center-1-entry-3d": (params("snr", [16, 16, 16], center=[0.5]),
                          ["problem_params.center", "3 entries", "3D"]),
    "radius-holds-no-cell": (params("sedov", [16, 16], radius=0.01),
                             ["problem_params.radius", "holds no cell"]),
}


def _hydro(cwd, *args):
    """``python -m hydro ARGS`` in cwd, with numba's cache in cwd/numba_cache."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRO_DEBUG"}
    env["NUMBA_CACHE_DIR"] = str(cwd / "numba_cache")
    return subprocess.run([sys.executable, "-m", "hydro", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory):
    """{(case, command): (directory, result)}, every case run at once."""
    jobs = {}
    for case, (mapping, _) in CLI_CASES.items():
        for command in ("check", "run"):
            cwd = tmp_path_factory.mktemp(f"{case}-{command}")
            (cwd / "params.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
            jobs[case, command] = cwd
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(_hydro, cwd, key[1], "params.yaml")
                   for key, cwd in jobs.items()}
        return {key: (jobs[key], f.result()) for key, f in futures.items()}


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("case", list(CLI_CASES))
def test_bad_parameter_is_a_config_error(cli_results, case, command):
    cwd, result = cli_results[case, command]
    assert_config_error(result, cwd, *CLI_CASES[case][1])
    compiled = [p.name for p in (cwd / "numba_cache").rglob("*") if p.is_file()]
    assert compiled == [], compiled  # failed before any kernel was compiled


# -- every declared rule, in-process -------------------------------------------------

def resolve_error(mapping):
    with pytest.raises(config.ConfigError) as error:
        config.resolve(mapping)
    message = str(error.value)
    assert "\n" not in message
    return message


BAD = {
    # name: (run-file mapping, the key, strings the message holds)
    "sod-rho_l": (params("sod", [32], rho_l=0.0), "rho_l", ["> 0", "got 0.0"]),
    "sod-p_l": (params("sod", [32], p_l=-1.0), "p_l", ["> 0"]),
    "sod-p_r": (params("sod", [32], p_r=0), "p_r", ["> 0"]),
    "sod-direction-y-in-1d": (params("sod", [32], direction="y"), "direction", ["2D mesh"]),
    "sod-direction-z-in-2d": (params("sod", [8, 8], direction="z"), "direction", ["3D mesh"]),
    "sod-x0-outside": (params("sod", [32], x0=1.5), "x0", ["one state", "0.984375"]),
    "sod-x0-at-first-centre": (params("sod", [4], x0=0.125), "x0", ["0.125 < x0"]),
    "sod-x0-beyond-diagonal": (params("sod", [8, 8], direction="diagonal", x0=1.4),
                               "x0", ["first and last cell centres"]),
    "blast-rho0": (params("blast", [16, 16], rho0=-1.0), "rho0", ["> 0"]),
    "blast-p_in": (params("blast", [16, 16], p_in=0.0), "p_in", ["> 0"]),
    "blast-p_out": (params("blast", [16, 16], p_out=-0.1), "p_out", ["> 0"]),
    "blast-radius-negative": (params("blast", [16, 16], radius=-0.1), "radius", ["> 0"]),
    "blast-radius-no-cell": (params("blast", [8, 8, 8], radius=0.1), "radius",
                             ["holds no cell", "0.108253", "0.125 x 0.125 x 0.125"]),
    "blast_gravity-G": (params("blast_gravity", [16, 16, 16], G=0.0), "G", ["> 0"]),
    "blast_gravity-mass": (params("blast_gravity", [16, 16, 16], mass=-1.0), "mass", [">= 0"]),
    "blast_gravity-softening": (params("blast_gravity", [16, 16, 16], softening=0.0),
                                "softening", ["> 0"]),
    "blast_gravity-radius": (params("blast_gravity", [4, 4, 4]), "radius", ["holds no cell"]),
    "cluster_wind-mdot": (params("cluster_wind", [32], "spherical", mdot=0.0), "mdot", ["> 0"]),
    "cluster_wind-edot": (params("cluster_wind", [32], "spherical", edot=-1.0), "edot",
                          ["> 0"]),
    "cluster_wind-center-2d": (params("cluster_wind", [16, 16], center=[0.5]), "center",
                               ["2 or 3 entries"]),
    "cluster_wind-center-spherical": (params("cluster_wind", [32], "spherical",
                                             center=[0.5, 0.0, 0.0]),
                                      "center", ["origin", "spherical"]),
    "cluster_wind-radius-no-cell": (params("cluster_wind", [32], "spherical", radius=0.01),
                                    "radius", ["holds no cell"]),
    "cluster_wind-outside-the-grid": (params("cluster_wind", [16, 16], radius=0.1,
                                             center=[2.0, 2.0]), "radius", ["holds no cell"]),
    "cluster_wind-rho_ambient": (params("cluster_wind", [32], "spherical", rho_ambient=0),
                                 "rho_ambient", ["> 0"]),
    "cluster_wind-p_ambient": (params("cluster_wind", [32], "spherical", p_ambient=-1e-6),
                               "p_ambient", ["> 0"]),
    "double_mach-mach-1": (params("double_mach", [16, 4], mach=1.0), "mach", ["> 1"]),
    "double_mach-rho0": (params("double_mach", [16, 4], rho0=0.0), "rho0", ["> 0"]),
    "double_mach-p0": (params("double_mach", [16, 4], p0=-1.0), "p0", ["> 0"]),
    "hydrostatic-G": (params("hydrostatic", [16, 16], G=-1.0), "G", ["> 0"]),
    "hydrostatic-mass": (params("hydrostatic", [16, 16], G=1.0, mass=-0.3), "mass", [">= 0"]),
    "hydrostatic-softening": (params("hydrostatic", [16, 16], G=1.0, softening=0.0),
                              "softening", ["> 0"]),
    "hydrostatic-cluster_mass": (params("hydrostatic", [16, 16], G=1.0, cluster_mass=-1.0),
                                 "cluster_mass", [">= 0"]),
    "hydrostatic-cluster_radius": (params("hydrostatic", [16, 16], G=1.0, cluster_radius=0),
                                   "cluster_radius", ["> 0"]),
    "hydrostatic-cluster_gamma-negative": (params("hydrostatic", [16, 16], G=1.0,
                                                  cluster_gamma=-0.5),
                                           "cluster_gamma", [">= 0"]),
    "hydrostatic-cluster_gamma-2": (params("hydrostatic", [16, 16], G=1.0, cluster_gamma=2),
                                    "cluster_gamma", ["< 2", "infinite"]),
    "hydrostatic-rho0": (params("hydrostatic", [16, 16], G=1.0, rho0=0.0), "rho0", ["> 0"]),
    "hydrostatic-cs": (params("hydrostatic", [16, 16], G=1.0, cs=0.0), "cs", ["> 0"]),
    "hydrostatic-center-2-entries": (params("hydrostatic", [16, 16], G=1.0,
                                            center=[0.1, 0.2]),
                                     "center", ["3 entries", "point in space"]),
    "kelvin_helmholtz-rho1": (params("kelvin_helmholtz", [16, 16], rho1=-1.0), "rho1",
                              ["> 0"]),
    "kelvin_helmholtz-rho2": (params("kelvin_helmholtz", [16, 16], rho2=0.0), "rho2",
                              ["> 0"]),
    "kelvin_helmholtz-width": (params("kelvin_helmholtz", [16, 16], width=0.0), "width",
                               ["> 0"]),
    "kelvin_helmholtz-pressure": (params("kelvin_helmholtz", [16, 16], pressure=-2.5),
                                  "pressure", ["> 0"]),
    "linear_wave-amplitude": (params("linear_wave", [32], amplitude=0.7), "amplitude",
                              ["1/gamma = 0.6", "positive"]),
    "linear_wave-negative-amplitude": (params("linear_wave", [32], amplitude=-0.61),
                                       "amplitude", ["1/gamma"]),
    "noh-rho0": (params("noh", [16], rho0=0.0), "rho0", ["> 0"]),
    "noh-v0": (params("noh", [16], v0=-1.0), "v0", ["> 0"]),
    "noh-p0": (params("noh", [16], p0=0.0), "p0", ["> 0"]),
    "sedov-energy-with-unit": ({**params("sedov", [16, 16], energy="-1e51 erg"),
                                "units": {"length": "pc", "mass": "Msun", "time": "kyr"}},
                               "energy", ["> 0"]),
    "sedov-center-1-entry-2d": (params("sedov", [16, 16], center=[0.5]), "center",
                                ["2 entries"]),
    "sedov-center-3-entries-2d": (params("sedov", [16, 16], center=[0.5, 0.5, 0.0]),
                                  "center", ["2 entries"]),
    "sedov-radius-negative": (params("sedov", [16, 16], radius=-0.1), "radius", ["> 0"]),
    "sedov-radius-off-centre": (params("sedov", [16, 16], radius=0.03, center=[0.5, 0.5]),
                                "radius", ["holds no cell", "[0.5, 0.5]"]),
    "sedov-radius-with-unit": ({**params("sedov", [16, 16], radius="1e15 cm"),
                                "mesh": {"nx": [16, 16], "xmax": ["1 pc", "1 pc"]},
                                "units": {"length": "pc"}}, "radius", ["holds no cell"]),
    "sedov-rho0": (params("sedov", [16, 16], rho0=-1.0), "rho0", ["> 0"]),
    "sedov-p0": (params("sedov", [16, 16], p0=0.0), "p0", ["> 0"]),
    "snr-e_sn": (params("snr", [64], "spherical", e_sn=0.0), "e_sn", ["> 0"]),
    "snr-m_ej": (params("snr", [64], "spherical", m_ej=-1.0), "m_ej", ["> 0"]),
    "snr-n-below-5": (params("snr", [64], "spherical", n=3), "n", ["> 5", "got 3.0"]),
    "snr-w_core-0": (params("snr", [64], "spherical", w_core=0.0), "w_core", ["> 0"]),
    "snr-w_core-above-1": (params("snr", [64], "spherical", w_core=1.5), "w_core", ["<= 1"]),
    "snr-center-2-entries-3d": (params("snr", [8, 8, 8], center=[0.5, 0.5]), "center",
                                ["3 entries"]),
    "snr-center-spherical": (params("snr", [64], "spherical", center=[0.1]), "center",
                             ["origin"]),
    "snr-r_ej-no-cell": (params("snr", [64], "spherical", r_ej=0.005), "r_ej",
                         ["holds no cell", "0.0078125"]),
    "snr-r_ej-negative": (params("snr", [64], "spherical", r_ej=-0.1), "r_ej", ["> 0"]),
    "snr-rho_ambient": (params("snr", [64], "spherical", rho_ambient=0.0), "rho_ambient",
                        ["> 0"]),
    "snr-p_ambient": (params("snr", [64], "spherical", p_ambient=-1.0), "p_ambient", ["> 0"]),
    # a centre is checked before the radius around it (declaration order)
    "sedov-bad-center-and-radius": (params("sedov", [16, 16], center=[9.0], radius=0.001),
                                    "center", ["2 entries"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_declared_rule(case):
    mapping, name, needles = BAD[case]
    message = resolve_error(mapping)
    assert message.startswith(f"problem_params.{name}: "), message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


GOOD = {
    # the edges of the allowed ranges, and centres in every allowed form
    "sod-x0-at-last-centre": params("sod", [4], x0=0.875),
    "sod-diagonal-3d": params("sod", [8, 8, 8], direction="diagonal", x0=0.5),
    "sod-z-in-3d": params("sod", [8, 8, 8], direction="z"),
    "snr-n-just-above-5": params("snr", [64], "spherical", n=5.001),
    "snr-w_core-1-uniform-ejecta": params("snr", [64], "spherical", w_core=1.0),
    "snr-3d-center-3-entries": params("snr", [8, 8, 8], center=[0.5, 0.5, 0.5], r_ej=0.3),
    "cluster_wind-2d-center-2-entries": params("cluster_wind", [16, 16], center=[0.5, 0.5],
                                               radius=0.1),
    "cluster_wind-2d-center-xyz": params("cluster_wind", [16, 16], center=[0.5, 0.5, 0.0],
                                         radius=0.1),
    "cluster_wind-sub-cell-radius-on-a-centre": params("cluster_wind", [3, 3],
                                                       center=[0.5, 0.5], radius=0.01),
    "hydrostatic-cluster_gamma-below-2": params("hydrostatic", [16, 16], G=1.0,
                                                cluster_gamma=1.99, mass=0.0),
    "linear_wave-no-wave": params("linear_wave", [32], amplitude=0.0),
    "linear_wave-large-amplitude": params("linear_wave", [32], amplitude=-0.59),
    "sedov-empty-center": params("sedov", [16, 16], center=[]),
    "sedov-radius-just-holds-a-cell": params("sedov", [16, 16], radius=0.0442),
    "double_mach-weak-shock": params("double_mach", [16, 4], mach=1.01),
    "noh-default": params("noh", [16, 16]),
}


@pytest.mark.parametrize("case", list(GOOD))
def test_allowed_values_resolve(case):
    config.resolve(GOOD[case])


@pytest.mark.parametrize("path", sorted(RUNS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_run_files_pass(path):
    config.load(str(path))


def test_the_check_sees_what_initial_conditions_see():
    """The radius check counts cell centres as sedov's initial conditions do: a radius
    just above the distance to the nearest centre passes, just at it fails."""
    from hydro.core.mesh import Mesh
    mesh = Mesh([16, 16], [0.0, 0.0], [1.0, 1.0], 2)
    r2 = problem.nearest_cell_r2(mesh, [0.5, 0.5])
    assert r2 == 2 * (1.0 / 32.0) ** 2
    radius = r2 ** 0.5
    while radius ** 2 <= r2:
        radius = float(np.nextafter(radius, 1.0))
    config.resolve(params("sedov", [16, 16], radius=radius))
    below = radius
    while below ** 2 >= r2:
        below = float(np.nextafter(below, 0.0))
    assert "holds no cell" in resolve_error(params("sedov", [16, 16], radius=below))


def test_a_users_own_problem_declares_rules(tmp_path):
    """A problem module beside the run file uses the same declarations; a check may
    also raise ConfigError itself, and sees the mesh and gamma."""
    (tmp_path / "mine.py").write_text('''
from hydro.core.config import ConfigError
from hydro.core.problem import POSITIVE, Parameter

def _cells(value, p, mesh, gamma):
    """at most the cells of the mesh"""
    if value > mesh.ncells:
        return f"{value} is more than the {mesh.ncells} cells (gamma {gamma:g})"

def _raises(value, p, mesh, gamma):
    if value == "boom":
        raise ConfigError("problem_params.word: boom")

PARAMETERS = [
    Parameter("mass", 1.0, "code_mass", "a mass", **POSITIVE),
    Parameter("count", 1, "", "a count", low=1, check=_cells),
    Parameter("word", "ok", "", "a word", check=_raises),
]

def initial_conditions(w, block, mesh, p, gamma):
    pass
''')
    base = {"problem": str(tmp_path / "mine.py"), "mesh": {"nx": [4, 4]},
            "hydro": {"gamma": 1.4}}
    cfg, _ = config.resolve({**base, "problem_params": {"count": 16}})
    assert cfg["problem_params"] == {"mass": 1.0, "count": 16, "word": "ok"}
    assert resolve_error({**base, "problem_params": {"mass": -1}}) == \
        "problem_params.mass: must be > 0 (got -1.0)"
    assert resolve_error({**base, "problem_params": {"count": 0}}) == \
        "problem_params.count: must be >= 1 (got 0)"
    assert resolve_error({**base, "problem_params": {"count": 17}}) == \
        "problem_params.count: 17 is more than the 16 cells (gamma 1.4)"
    assert resolve_error({**base, "problem_params": {"word": "boom"}}) == \
        "problem_params.word: boom"
    text = problem.describe(str(tmp_path / "mine.py"))
    assert "a count (>= 1; at most the cells of the mesh)" in text
    assert "a mass (> 0)" in text


def test_problems_shows_the_declared_ranges():
    """``hydro problems NAME`` prints each parameter's bounds and check."""
    for name in problem.available():
        lines = problem.describe(name).splitlines()
        for p in problem.load(name).PARAMETERS:
            line = next(ln for ln in lines if ln.split()[:1] == [p.name])
            if p.allowed():
                assert f"{p.allowed()})" in line, line
    sod = problem.describe("sod")
    assert "density left of x0 (> 0)" in sod
    assert "(one of: x, y, z, diagonal; an axis of the mesh)" in sod
    snr = problem.describe("snr")
    assert "power-law index of the ejecta envelope (> 5)" in snr
    assert "(> 0 and <= 1)" in snr
    assert "(> 0; must hold a cell centre)" in snr


DENSITY_OR_PRESSURE = {"code_density", "code_mass/code_length**3", "code_pressure"}


def test_every_density_and_pressure_must_be_positive():
    """No problem module takes a density or a pressure that may be 0 or negative."""
    for name in problem.available():
        for p in problem.load(name).PARAMETERS:
            if p.unit in DENSITY_OR_PRESSURE:
                assert (p.low, p.low_open) == (0.0, True), (name, p.name)
