"""The ``hydro`` command line, run as a real subprocess (``python -m hydro``).

Every validation failure must be one line on stderr that names the key, exit
status 2, no traceback, and nothing written (the ``output.dir`` of the file
must not exist afterwards).  ``check`` prints the resolved configuration as
YAML; ``problems`` documents the problem modules; one tiny real run checks the
files and the final throughput line, then restarts from its last snapshot.

Each interpreter start costs ~0.4 s of CPU (numba is imported), so the error cases
named in the interface run as concurrent subprocesses, and the long tail of bad
values (and the check -> check round trip) goes through ``hydro.cli.main`` in-process.
"""

import math
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

OUT = "out/run"  # output.dir of every parameter file below (relative to tmp_path)
SOLVERS = ("llf", "hlle", "hllc", "exact")
PROBLEMS = ("blast", "kelvin_helmholtz", "linear_wave", "sedov", "sod")
SOD_DEFAULTS = {"rho_l": 1.0, "u_l": 0.0, "p_l": 1.0, "rho_r": 0.125, "u_r": 0.0,
                "p_r": 0.1, "x0": 0.5, "direction": "x"}


def hydro(cwd, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "HYDRO_DEBUG"}
    return subprocess.run([sys.executable, "-m", "hydro", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def base(**blocks):
    """A small valid sod run, with blocks updated (a value of None drops the key)."""
    params = {"problem": "sod", "mesh": {"nx": [32]}, "time": {"tlim": 0.01},
              "output": {"dir": OUT}}
    for name, value in blocks.items():
        if value is None:
            params.pop(name, None)
        elif isinstance(value, dict) and isinstance(params.get(name), dict):
            params[name] = {**params[name], **value}
        else:
            params[name] = value
    return params


def write(tmp_path, params, name="params.yaml"):
    path = tmp_path / name
    if isinstance(params, (bytes, str)):
        path.write_bytes(params if isinstance(params, bytes) else params.encode())
    else:
        path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path.name


def assert_config_error(result, tmp_path, *needles):
    """Exit 2, exactly one non-empty stderr line holding every needle, no traceback,
    nothing on stdout, and no output directory."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert not (tmp_path / OUT).exists()
    assert not (tmp_path / "out").exists()
    return line


def main_in_process(capsys, *args):
    """hydro.cli.main(args) in this interpreter, as a CompletedProcess."""
    from hydro import cli

    status = cli.main(list(map(str, args)))
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, captured.out, captured.err)


def check_ok(tmp_path, *args):
    result = hydro(tmp_path, "check", *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return yaml.safe_load(result.stdout)


# -- validation failures: one line, exit 2, nothing written --------------------------
#
# Each subprocess case runs in its own directory holding only its parameter file; the
# cases run concurrently (a module fixture) to keep the file fast.  Each new interpreter
# costs ~0.4 s of CPU (numba is imported), so the long tail of bad values runs through
# hydro.cli.main in-process instead.

class Case:
    def __init__(self, args, needles, params=None, content=None):
        self.args = args        # command line; PARAMS stands for the parameter file
        self.needles = needles  # strings the one error line must hold
        self.params = params    # mapping written as PARAMS, or
        self.content = content  # raw text/bytes written as PARAMS ("DIR": a directory)


PARAMS = "params.yaml"


def _file_cases():
    """Bad values in the parameter file: {id: (mapping, strings the error must hold)}."""
    cases = {
        "typo-key": (base(hydro={"gama": 1.4}), ["hydro.gama", "did you mean 'gamma'"]),
        "typo-block": ({**base(), "hydor": {"gamma": 1.4}}, ["hydor", "did you mean 'hydro'"]),
        "unknown-top-key": ({**base(), "zzz": 1},
                            ["zzz", "; allowed: problem, mesh", "problem_params"]),
        "riemann-choice": (base(hydro={"riemann": "hlc"}),
                           ["hydro.riemann", "hlc", "did you mean 'hllc'", *SOLVERS]),
        "limiter-choice": (base(hydro={"limiter": "superbee!"}), ["hydro.limiter", "mc"]),
        "cfl-type": (base(hydro={"cfl": "fast"}), ["hydro.cfl", "fast", "number"]),
        "cfl-range": (base(hydro={"cfl": 2}), ["hydro.cfl", "<= 1"]),
        "cfl-zero": (base(hydro={"cfl": 0}), ["hydro.cfl", "> 0"]),
        "gamma-range": (base(hydro={"gamma": 0.9}), ["hydro.gamma", "> 1"]),
        "gamma-bool": (base(hydro={"gamma": True}), ["hydro.gamma", "number"]),
        "nx-zero": (base(mesh={"nx": [0]}), ["mesh.nx", ">= 1"]),
        "nx-float": (base(mesh={"nx": [32.5]}), ["mesh.nx", "integer"]),
        "nx-4d": (base(mesh={"nx": [8, 8, 8, 8]}), ["mesh.nx", "1 to 3"]),
        "nx-missing": (base(mesh=None), ["mesh.nx", "required"]),
        "nlim-range": (base(time={"nlim": -5}), ["time.nlim", ">= -1"]),
        "tlim-inf": (base(time={"tlim": float("inf")}), ["time.tlim", "finite"]),
        "snapshots-type": (base(output={"snapshots": "sometimes"}),
                           ["output.snapshots", "true or false"]),
        "xmin-count": (base(mesh={"xmin": [0.0, 0.0]}), ["mesh.xmin", "mesh.nx", "1"]),
        "xmax-count-2d": (base(mesh={"nx": [16, 16], "xmax": [1.0]}), ["mesh.xmax", "2"]),
        "boundary-count": (base(mesh={"nx": [16, 16], "boundary": ["periodic"]}),
                           ["mesh.boundary", "2"]),
        "boundary-choice": (base(mesh={"boundary": ["wall"]}),
                            ["mesh.boundary[0]", "wall", "periodic", "outflow", "reflecting"]),
        "boundary-half-periodic": (base(mesh={"boundary": [["periodic", "outflow"]]}),
                                   ["mesh.boundary[0]", "periodic"]),
        "xmax-below-xmin": (base(mesh={"xmin": [1.0], "xmax": [0.0]}), ["mesh.xmax[0]"]),
        "block-not-mapping": (base(hydro=3), ["hydro", "mapping"]),
        "problem-missing": (base(problem=None), ["problem", "required"]),
        "problem-unknown": (base(problem="sood"),
                            ["problem", "sood", "did you mean 'sod'", *PROBLEMS]),
        "problem-type": (base(problem=3), ["problem", "string"]),
        "problem-param-unknown": (base(problem_params={"rho_ll": 2.0}),
                                  ["problem_params.rho_ll", "did you mean 'rho_l'", "sod"]),
        "problem-param-type": (base(problem_params={"rho_l": "heavy"}),
                               ["problem_params.rho_l", "heavy"]),
        "problem-param-choice": (base(problem_params={"direction": "w"}),
                                 ["problem_params.direction", "; allowed: x, y, z, diagonal"]),
        "problem-params-not-mapping": (base(problem_params=[1, 2]),
                                       ["problem_params", "mapping"]),
    }
    return cases


# The file cases a subprocess runs (each costs a Python start-up with numba imported);
# all of them also go through hydro.cli.main in-process (test_config_error_in_process).
SUBPROCESS_FILE_CASES = (
    "typo-key", "typo-block", "riemann-choice", "cfl-type", "cfl-range", "gamma-range",
    "nx-zero", "xmin-count", "problem-unknown", "problem-param-unknown")
FILE_CASES = _file_cases()


def _subprocess_cases():
    xy = base(mesh={"xmin": [0.0], "xmax": [1.0]})
    out = {f"run-{k}": Case(["run", PARAMS], FILE_CASES[k][1], params=FILE_CASES[k][0])
           for k in SUBPROCESS_FILE_CASES}
    for k in ("typo-key",):
        out[f"check-{k}"] = Case(["check", PARAMS], FILE_CASES[k][1], params=FILE_CASES[k][0])
    out.update({
        "check-file-missing": Case(["check", "nosuch.yaml"], ["nosuch.yaml", "No such file"]),
        "run-file-missing": Case(["run", "nosuch.yaml"], ["nosuch.yaml", "No such file"]),
        "run-file-bad-yaml": Case(["run", PARAMS], [PARAMS, "YAML", "line"],
                                  content="problem: sod\nmesh: {nx: [32]\n"),
        "run-file-not-text": Case(["run", PARAMS], [PARAMS], content=b"\xff\xfe\x00\x01bin"),
        "run-file-is-directory": Case(["run", PARAMS], [PARAMS], content="DIR"),
    })
    overrides = {
        "no-equals": ("mesh.nx", ["mesh.nx", "block.key=value"]),
        "bad-yaml-value": ("hydro.gamma=[1", ["hydro.gamma", "YAML"]),
        "typo": ("hydro.gama=1.4", ["hydro.gama", "did you mean 'gamma'"]),
        "choice": ("hydro.riemann=hlc", ["hydro.riemann", *SOLVERS]),
        "nx-vs-xmin": ("mesh.nx=[32,32]", ["mesh.xmin", "2"]),
    }
    for k, (text, needles) in overrides.items():
        out[f"override-{k}"] = Case(["run", PARAMS, text], needles, params=xy)
    out["override-bad-after-restart"] = Case(
        ["run", PARAMS, "--restart", "nosuch.h5", "hydro.gama=1.4"], ["hydro.gama"], params=xy)
    out["restart-missing"] = Case(["run", PARAMS, "--restart", "nosuch.00003.h5"],
                                  ["--restart", "nosuch.00003.h5"], params=base())
    out["problems-nosuch"] = Case(["problems", "nosuch"], ["nosuch", *PROBLEMS])
    out["problems-typo"] = Case(["problems", "sood"], ["sood", "did you mean 'sod'"])
    return out


ERRORS = _subprocess_cases()


def _prepare(directory, case):
    """Write the case's parameter file; return the names it put in ``directory``."""
    if case.params is not None:
        write(directory, case.params, PARAMS)
    elif case.content == "DIR":
        (directory / PARAMS).mkdir()
    elif case.content is not None:
        write(directory, case.content, PARAMS)
    return sorted(os.listdir(directory))


@pytest.fixture(scope="module")
def error_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("errors")
    dirs, before = {}, {}
    for case_id, case in ERRORS.items():
        dirs[case_id] = root / case_id
        dirs[case_id].mkdir()
        before[case_id] = _prepare(dirs[case_id], case)
    with ThreadPoolExecutor(max_workers=max(4, os.cpu_count() or 1)) as pool:
        futures = {case_id: pool.submit(hydro, dirs[case_id], *case.args)
                   for case_id, case in ERRORS.items()}
        return {case_id: (dirs[case_id], before[case_id], f.result())
                for case_id, f in futures.items()}


@pytest.mark.parametrize("case_id", ERRORS)
def test_config_error(error_results, case_id):
    directory, before, result = error_results[case_id]
    assert_config_error(result, directory, *ERRORS[case_id].needles)
    assert sorted(os.listdir(directory)) == before  # nothing written at all


@pytest.mark.parametrize("case_id", FILE_CASES)
def test_config_error_in_process(tmp_path, capsys, monkeypatch, case_id):
    """Every bad file value through hydro.cli.main (cheap: no new interpreter)."""
    params, needles = FILE_CASES[case_id]
    monkeypatch.chdir(tmp_path)
    name = write(tmp_path, params)
    for command in ("check", "run"):
        assert_config_error(main_in_process(capsys, command, name), tmp_path, *needles)
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("content, needles", [
    pytest.param("problem: sod\nmesh: {nx: [32]\n", [PARAMS, "YAML", "line 3"], id="bad-yaml"),
    pytest.param("problem: sod\n\tmesh: 1\n", [PARAMS, "YAML"], id="tab"),
    pytest.param(b"problem: sod\nmesh: {nx: [32]}\n# \xe9t\xe9\n", [PARAMS], id="latin-1"),
    pytest.param("- just\n- a list\n", [PARAMS, "mapping"], id="not-mapping"),
    pytest.param("", ["problem", "required"], id="empty"),
    pytest.param("problem: sod\nmesh: {nx: [32]}\nhydro: !!python/name:os.system\n",
                 [PARAMS, "YAML"], id="unsafe-tag"),
])
def test_bad_file_in_process(tmp_path, capsys, monkeypatch, content, needles):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, content, PARAMS)
    for command in ("check", "run"):
        assert_config_error(main_in_process(capsys, command, PARAMS), tmp_path, *needles)
    assert os.listdir(tmp_path) == [PARAMS]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_unreadable_parameter_file(tmp_path):
    name = write(tmp_path, base())
    (tmp_path / name).chmod(0)
    try:
        assert_config_error(hydro(tmp_path, "run", name), tmp_path, name)
    finally:
        (tmp_path / name).chmod(0o644)


# -- overrides ------------------------------------------------------------------------

def test_override_fixes_invalid_file_values(tmp_path):
    name = write(tmp_path, base(hydro={"cfl": 2, "riemann": "hlc"}, mesh={"nx": [0]}))
    assert_config_error(hydro(tmp_path, "check", name), tmp_path)
    cfg = check_ok(tmp_path, name, "hydro.cfl=0.3", "hydro.riemann=hlle", "mesh.nx=[64]")
    assert cfg["hydro"]["cfl"] == 0.3
    assert cfg["hydro"]["riemann"] == "hlle"
    assert cfg["mesh"]["nx"] == [64]


def test_later_override_wins(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = write(tmp_path, base())
    result = main_in_process(capsys, "check", name, "time.tlim=0.2", "time.tlim=0.3")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["time"]["tlim"] == 0.3


# -- check ----------------------------------------------------------------------------

def test_check_prints_resolved_defaults(tmp_path):
    name = write(tmp_path, {"problem": "sod", "mesh": {"nx": [32]},
                            "output": {"dir": OUT}})
    before = sorted(p.name for p in tmp_path.iterdir())
    cfg = check_ok(tmp_path, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # check writes nothing
    assert cfg["problem"] == "sod"
    assert cfg["mesh"] == {"nx": [32], "xmin": [0.0], "xmax": [1.0],
                           "boundary": [["outflow", "outflow"]], "ranks": None,
                           "geometry": "cartesian"}
    assert cfg["hydro"]["gamma"] == pytest.approx(5.0 / 3.0)
    assert cfg["hydro"]["riemann"] == "hllc"
    assert cfg["hydro"]["cfl"] == 0.3
    assert cfg["time"] == {"tlim": 1.0, "nlim": -1, "log_every": None, "dt_min": None}
    assert cfg["output"]["dir"] == OUT
    assert cfg["output"]["basename"] == "sod"
    assert cfg["problem_params"] == SOD_DEFAULTS


def test_check_shows_overrides(tmp_path):
    name = write(tmp_path, base(problem_params={"x0": 0.4}))
    cfg = check_ok(tmp_path, name, "mesh.nx=[64,32]", "time.tlim=0.3", "hydro.riemann=hlle",
                   "problem_params.rho_l=2", "output.basename=tube")
    assert cfg["mesh"]["nx"] == [64, 32]
    assert cfg["mesh"]["xmin"] == [0.0, 0.0] and cfg["mesh"]["xmax"] == [1.0, 1.0]
    assert cfg["mesh"]["boundary"] == [["outflow", "outflow"]] * 2
    assert cfg["time"]["tlim"] == 0.3
    assert cfg["hydro"]["riemann"] == "hlle"
    assert cfg["output"]["basename"] == "tube"
    assert cfg["problem_params"] == {**SOD_DEFAULTS, "rho_l": 2.0, "x0": 0.4}


def test_check_of_shipped_run_file(tmp_path, capsys, monkeypatch):
    runs = os.path.join(os.path.dirname(__file__), os.pardir, "runs", "sod.yaml")
    monkeypatch.chdir(tmp_path)
    result = main_in_process(capsys, "check", os.path.abspath(runs))
    assert result.returncode == 0, result.stderr
    cfg = yaml.safe_load(result.stdout)
    assert cfg["problem"] == "sod" and cfg["hydro"]["gamma"] == 1.4


@pytest.mark.parametrize("problem, nx", [("sod", [32]), ("sedov", [16, 16]),
                                         ("kelvin_helmholtz", [16, 16]),
                                         ("linear_wave", [32]), ("blast", [16, 16, 16])])
def test_check_output_checks_again(tmp_path, capsys, monkeypatch, problem, nx):
    """The resolved configuration is itself a valid parameter file, resolving to itself
    (in-process: the printed text is what `hydro check` prints)."""
    monkeypatch.chdir(tmp_path)
    name = write(tmp_path, {"problem": problem, "mesh": {"nx": nx}, "output": {"dir": OUT}})
    first = main_in_process(capsys, "check", name)
    assert first.returncode == 0, first.stderr
    assert "&id" not in first.stdout  # no YAML anchors/aliases in the printed config
    resolved = write(tmp_path, first.stdout, "resolved.yaml")
    second = main_in_process(capsys, "check", resolved)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert sorted(os.listdir(tmp_path)) == sorted([name, resolved])


# -- problems -------------------------------------------------------------------------

def test_problems_lists_modules(tmp_path):
    result = hydro(tmp_path, "problems")
    assert result.returncode == 0, result.stderr
    listed = {ln.split()[0]: ln for ln in result.stdout.splitlines() if ln.strip()}
    for name in PROBLEMS:
        assert name in listed
        assert len(listed[name].split()) > 1, f"no summary for {name}"


def test_problems_sod_shows_parameters(tmp_path):
    result = hydro(tmp_path, "problems", "sod")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rho_l = [ln for ln in lines if ln.split()[:1] == ["rho_l"]]
    assert len(rho_l) == 1, result.stdout
    assert "1.0" in rho_l[0]
    assert "code_mass/code_length**3" in rho_l[0]
    assert "density left of x0" in rho_l[0]
    for name in SOD_DEFAULTS:
        assert any(ln.split()[:1] == [name] for ln in lines), name
    direction = next(ln for ln in lines if ln.split()[:1] == ["direction"])
    assert "diagonal" in direction


# -- runs -----------------------------------------------------------------------------

def test_tiny_sod_run_and_restart(tmp_path):
    from hydro.io import gdf

    name = write(tmp_path, base())
    result = hydro(tmp_path, "run", name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = tmp_path / OUT
    first, last = out / "sod.00000.h5", out / "sod.00001.h5"
    assert first.is_file() and last.is_file() and (out / "sod.hst").is_file()
    assert gdf.read_restart(str(first))[0]["time"] == 0.0
    assert gdf.read_restart(str(last))[0]["time"] == pytest.approx(0.01, rel=1e-12)
    rows = [ln for ln in (out / "sod.hst").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    assert len(rows) >= 2
    final = [ln for ln in result.stdout.splitlines() if ln.strip()][-1]
    match = re.search(r"zone-cycles/s = (\S+)$", final)
    assert match, final
    rate = float(match.group(1))
    assert math.isfinite(rate) and rate > 0.0, final

    # continue the run: overrides may come after --restart FILE as well as before it
    result = hydro(tmp_path, "run", name, "--restart", f"{OUT}/sod.00001.h5",
                   "time.tlim=0.02")
    assert result.returncode == 0, result.stdout + result.stderr
    assert gdf.read_restart(str(out / "sod.00002.h5"))[0]["time"] == pytest.approx(0.02)


# -- bench ----------------------------------------------------------------------------

def test_bench_compare_prints_a_table(tmp_path):
    """Every configuration (including scalars + gravity + cooling) runs on one and
    two threads and gives a positive throughput and memory per cell, as one
    markdown table."""
    from hydro.bench import CONFIGURATIONS

    result = hydro(tmp_path, "bench", "--compare", "--sizes", "16", "--repeat", "1",
                   "--cycles", "2", "--threads", "1", "2", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    # the phase-space row has as many cells as the cube: 64^2
    rows = [ln for ln in result.stdout.splitlines() if ln.startswith("| ")
            and ("16^3" in ln or "64^2" in ln)]
    assert [row.split(" | ")[0][2:] for row in rows] == [
        name for name in CONFIGURATIONS for _ in range(2)]
    assert [row.split(" | ")[2] for row in rows] == ["1 x 1", "1 x 2"] * len(CONFIGURATIONS)
    for row in rows:
        rate, memory = row.split(" | ")[3].split()[0], row.split(" | ")[4].rstrip(" |")
        assert float(rate) > 0 and float(memory) > 0, row


# -- packaging ------------------------------------------------------------------------

def test_users_own_analysis_and_problems_packages_do_not_hide_ours(tmp_path):
    """A science project's own ``analysis`` and ``problems`` packages beside the run
    file (on sys.path first) leave ``hydro problems`` and ``hydro plot`` working."""
    for package in ("analysis", "problems"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(
            "raise ImportError('the user package was imported')\n")
    listed = hydro(tmp_path, "problems")
    assert listed.returncode == 0, listed.stderr
    assert "sod" in listed.stdout
    plotted = hydro(tmp_path, "plot", "nosuch.h5")
    assert plotted.returncode == 2, plotted.stderr
    assert "nosuch.h5" in plotted.stderr and "Traceback" not in plotted.stderr
