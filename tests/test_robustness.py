"""Failures a user must never see: a crash on a non-finite state, runs mixing in one
directory, a swallowed Ctrl-C, a stalled time step, a traceback for bad input.

Each case runs ``python -m hydro`` as a user would and checks the exit status, that
stderr is one line saying what happened (no traceback), and what is on disk.  The
problems that go wrong on purpose are small modules written into the test's folder
(a user's own problem file beside the run file).
"""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from hydro.io import gdf
from hydro.core.parallel import _add_partials
from test_cli import assert_config_error, hydro, write

# Uniform gas with one cell made bad by the initial conditions (``where`` = density,
# pressure or the scalar ``dye``), or by an operator-split source from ``t_bad`` on;
# or a source whose own time step collapses from ``t_bad`` on.
BAD_PROBLEM = '''
"""Uniform gas that goes bad on purpose."""
import math
from hydro.core.problem import Parameter
from hydro.sources import SourceTerm

PARAMETERS = [
    Parameter("where", "density", "", "variable made bad at t = 0 (or 'none')"),
    Parameter("value", "nan", "", "the bad value"),
    Parameter("t_bad", -1.0, "", "from this time on a source breaks the run (< 0: never)"),
    Parameter("how", "nan", "", "nan: a NaN density in the first cell; stiff: dt = 1e-14"),
]
SCALARS = ("dye",)


class Breaker(SourceTerm):
    operator_split = True

    def __init__(self, p):
        self.p, self.t = p, 0.0

    def apply(self, w, u, block, t, dt, mass_flux):
        self.t = t + dt
        if self.p.how == "nan" and 0 <= self.p.t_bad < self.t:
            u[(0,) + tuple(s.start for s in block.active)] = float("nan")

    def timestep(self, w, block, gamma):
        return 1e-14 if self.p.how == "stiff" and 0 <= self.p.t_bad < self.t else math.inf


def source_terms(p):
    return [Breaker(p)]


def initial_conditions(w, block, mesh, p, gamma):
    a = block.active
    w[0][a], w[4][a], w[5][a] = 1.0, 1.0, 0.5
    if p.where != "none":
        cell = tuple(s.start + (s.stop - s.start) // 2 for s in a)
        w[({"density": 0, "pressure": 4, "dye": 5}[p.where],) + cell] = float(p.value)
'''


def bad_run(tmp_path, nx, **params):
    (tmp_path / "bad.py").write_text(BAD_PROBLEM)
    return write(tmp_path, {"problem": "bad.py", "mesh": {"nx": nx},
                            "time": {"tlim": 0.1, "log_every": 1000},
                            "output": {"dir": "out", "dt": 0.02},
                            "problem_params": params})


def one_line(result, status):
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr
    return lines[0]


# -- a problem module that cannot be imported -----------------------------------------

@pytest.mark.parametrize("source,needle", [
    ("from hydro.problem import Parameter\n", "ModuleNotFoundError: No module named "
                                               "'hydro.problem'"),
    ("def initial_conditions(:\n", "SyntaxError"),
])
def test_a_problem_file_that_does_not_import_is_one_line(tmp_path, source, needle):
    """A user's problem file with a syntax error, or an import of what is not there
    (an old module path), is exit 2 with one line naming the file, for run, check and
    problems."""
    (tmp_path / "mine.py").write_text(source)
    write(tmp_path, {"problem": "mine.py", "mesh": {"nx": [16]}, "output": {"dir": "out"}})
    for command in (["run", "params.yaml"], ["check", "params.yaml"],
                    ["problems", str(tmp_path / "mine.py")]):
        line = one_line(hydro(tmp_path, *command), 2)
        assert "cannot import" in line and "mine.py" in line and needle in line, line
    assert not (tmp_path / "out").exists()


# -- a state that is not finite --------------------------------------------------------

def test_exact_sum_of_non_finite_values_stays_in_its_buffer():
    """The partials of a finite sum never outnumber the buffer (2100 doubles), but inf
    or NaN made every rounding error NaN: one partial more per value, written past
    the buffer's end (memory corruption, then SIGABRT)."""
    for bad in (np.nan, np.inf, -np.inf):
        values = np.linspace(1.0, 2.0, 10_000)[None, None, :].copy()
        values[0, 0, 10] = bad
        guard = np.zeros(2100 + 4000)  # a buffer with room to see an overrun
        assert _add_partials(values, guard[:2100], 0) == -1
        assert not guard[2100:].any()


@pytest.mark.parametrize("nx, where", [([16, 16], "density"), ([64, 64], "density"),
                                       ([64, 64], "pressure"), ([64, 64], "dye"),
                                       ([8, 8, 64], "density")])
def test_non_finite_initial_state_is_one_line(tmp_path, nx, where):
    """Below and above the ~2,100 cells where the history's exact sums used to write
    past their buffer (exit 134): exit 1, one line naming the rank, the cycle and the
    cell, and no file written."""
    value = "inf" if where == "pressure" else "nan"
    name = bad_run(tmp_path, nx, where=where, value=value)
    line = one_line(hydro(tmp_path, "run", name), 1)
    centre = ", ".join(str(n // 2) for n in nx)
    for needle in ("run failed", "rank 0", "NaN or inf", "cycle 0", f"cell {centre} ",
                   "no snapshot was written"):
        assert needle in line, (needle, line)
    assert {"dye": "non-finite dye", "pressure": "pressure inf"}.get(where, "density nan") \
        in line
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


def test_state_going_bad_during_the_run_names_the_snapshot_to_restart_from(tmp_path):
    name = bad_run(tmp_path, [64, 64], where="none", t_bad=0.05)
    line = one_line(hydro(tmp_path, "run", name), 1)
    assert "rank 0: NaN or inf in the state at cycle " in line and "cell 0, 0 " in line
    assert "--restart out/bad.00002.h5" in line  # t = 0.04, the last before t_bad
    snapshots = sorted(os.listdir(tmp_path / "out"))
    assert snapshots == ["bad.00000.h5", "bad.00001.h5", "bad.00002.h5", "bad.hst"]


# -- the time step ---------------------------------------------------------------------

def test_collapsing_time_step_stops_the_run(tmp_path):
    """A source whose step falls to 1e-14 would stall for hours; a floor on dt
    (time.dt_min) that the Courant step is below names the limiting cell."""
    name = bad_run(tmp_path, [32, 32], where="none", t_bad=0.05, how="stiff")
    start = time.monotonic()
    line = one_line(hydro(tmp_path, "run", name), 1)
    assert time.monotonic() - start < 60
    assert line.startswith("hydro: run failed: dt collapsed to 3.000000e-15 at cycle ")
    assert "Breaker source term" in line and "1e-10 of t" in line
    line = one_line(hydro(tmp_path, "run", name, "time.dt_min=0.01", "--overwrite"), 1)
    assert "dt collapsed to" in line and "at cycle 0, in cell " in line
    assert "time.dt_min" in line


@pytest.mark.parametrize("nx, cfl, limit", [([8, 8], 0.6, "0.5"), ([8, 8, 8], 1.0, "0.5")])
def test_cfl_above_the_stable_limit_is_a_config_error(tmp_path, nx, cfl, limit):
    name = write(tmp_path, {"problem": "sod", "mesh": {"nx": nx}, "hydro": {"cfl": cfl},
                            "output": {"dir": "out/run"}})
    assert_config_error(hydro(tmp_path, "check", name), tmp_path, "hydro.cfl",
                        "stable limit", f"{len(nx)}D", limit)


# -- the output directory --------------------------------------------------------------

def sod(tmp_path, **output):
    return write(tmp_path, {"problem": "sod", "mesh": {"nx": [32]},
                            "time": {"tlim": 0.04},
                            "output": {"dir": "out", "dt": 0.01, **output}})


def test_a_second_run_into_the_same_directory_is_refused(tmp_path):
    name = sod(tmp_path)
    assert hydro(tmp_path, "run", name).returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    shorter = hydro(tmp_path, "run", name, "time.tlim=0.02")
    line = one_line(shorter, 2)
    assert "output.dir" in line and "sod.00000.h5" in line and "sod.hst" in line
    assert "--overwrite" in line
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    assert after == before  # nothing touched

    for how, earlier in ((["--overwrite"], 6), (["output.overwrite=true"], 4)):
        result = hydro(tmp_path, "run", name, "time.tlim=0.02", *how)
        assert result.returncode == 0, result.stderr
        assert f"removed {earlier} file(s) of an earlier run" in result.stdout
        # the old higher-numbered snapshots are gone, not mixed in
        assert sorted(os.listdir(tmp_path / "out")) == [
            "sod.00000.h5", "sod.00001.h5", "sod.00002.h5", "sod.hst"]


def test_a_restart_supersedes_the_later_snapshots(tmp_path):
    name = sod(tmp_path)
    assert hydro(tmp_path, "run", name).returncode == 0
    result = hydro(tmp_path, "run", name, "--restart", "out/sod.00002.h5",
                   "problem_params.x0=0.5")
    assert result.returncode == 0, result.stderr
    assert "renamed 2 snapshot(s) after the restart time" in result.stdout
    first = result.stdout.splitlines()[0]
    assert first.startswith("[hydro] restart from out/sod.00002.h5: t = 2.000000e-02, cycle "), first
    assert "restarted from out/sod.00002.h5" in result.stdout
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == ["sod.00000.h5", "sod.00001.h5", "sod.00002.h5", "sod.00003.h5",
                     "sod.00003.h5.superseded", "sod.00004.h5", "sod.00004.h5.superseded",
                     "sod.hst"]


# -- bad input found before anything compiles ------------------------------------------

@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A finished 1D sod run: its directory and its last snapshot's name."""
    folder = tmp_path_factory.mktemp("done")
    name = sod(folder)
    assert hydro(folder, "run", name).returncode == 0
    return folder / "out", "sod.00004.h5"


def restart_cases(folder, done):
    (folder / "empty.h5").write_bytes(b"")
    (folder / "text.h5").write_text("not hdf5\n")
    with h5py.File(folder / "other.h5", "w") as f:
        f["x"] = np.arange(3)
    last = str(done[0] / done[1])
    return {
        "empty": (["--restart", "empty.h5"], ["--restart", "empty.h5", "not a hydro snapshot"]),
        "text": (["--restart", "text.h5"], ["text.h5", "not a hydro snapshot"]),
        "hdf5": (["--restart", "other.h5"], ["other.h5", "not a hydro snapshot"]),
        "missing": (["--restart", "nosuch.h5"], ["nosuch.h5", "no such file"]),
        "problem": (["--restart", last, "problem=sedov", "mesh.nx=[32]"],
                    ["problem 'sod'", "sedov"]),
        "mesh": (["--restart", last, "mesh.nx=[64]"], ["mesh.nx", "[32]", "[64]"]),
        "extent": (["--restart", last, "mesh.xmax=[2.0]"], ["mesh.xmax"]),
        "past-tlim": (["--restart", last, "time.tlim=0.03"], ["t = 4.0", "time.tlim"]),
        "at-tlim": (["--restart", last], ["at or past time.tlim"]),
        "nlim": (["--restart", last, "time.tlim=1", "time.nlim=3"], ["time.nlim"]),
        "units": (["units.length=kg"], ["units.length", "length"]),
        "dir-is-file": (["output.dir=params.yaml/out"], ["output.dir", "cannot write"]),
    }


def test_bad_restarts_and_directories_are_one_line_before_compiling(tmp_path, snapshot):
    """Exit 2, one line, nothing written, and no kernel compiled: the checks come
    before the driver (an empty NUMBA_CACHE_DIR stays empty)."""
    from concurrent.futures import ThreadPoolExecutor

    cache = tmp_path / "numba-cache"
    cache.mkdir()
    cases = restart_cases(tmp_path, snapshot)
    folders = {}
    for key in cases:
        folders[key] = tmp_path / key
        folders[key].mkdir()
        for name in ("empty.h5", "text.h5", "other.h5"):
            os.link(tmp_path / name, folders[key] / name)
        write(folders[key], {"problem": "sod", "mesh": {"nx": [32]}, "time": {"tlim": 0.04},
                             "output": {"dir": "out/run"}}, "params.yaml")
    env = os.environ | {"NUMBA_CACHE_DIR": str(cache)}

    def run(key):
        return subprocess.run([sys.executable, "-m", "hydro", "run", "params.yaml",
                               *cases[key][0]], cwd=folders[key], capture_output=True,
                              text=True, timeout=300, env=env)

    with ThreadPoolExecutor(4) as pool:
        results = dict(zip(cases, pool.map(run, cases)))
    for key, result in results.items():
        line = assert_config_error(result, folders[key], *cases[key][1])
        assert "run failed" not in line, (key, line)
    assert not any(files for _, _, files in os.walk(cache))
    assert sorted(os.listdir(snapshot[0]))[-2:] == ["sod.00004.h5", "sod.hst"]


# -- signals -----------------------------------------------------------------------------

def long_run(tmp_path, **output):
    """A 1D run of many quick cycles (minutes to the end), a snapshot every 20 cycles."""
    return write(tmp_path, {"problem": "sod", "mesh": {"nx": [2048]},
                            "time": {"tlim": 100.0, "log_every": 20},
                            "output": {"dir": "out", "dt": 1e-3, **output}})


def start(tmp_path, *args, launcher=()):
    return subprocess.Popen([*launcher, sys.executable, "-m", "hydro", "run", *args],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_for_cycles(process, count=3):
    """Read the log until ``count`` progress lines have come (the main loop runs)."""
    seen = 0
    for line in process.stdout:
        seen += line.startswith("[hydro] cycle=")
        if seen >= count:
            return
    raise AssertionError(process.stderr.read())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_one_signal_stops_the_run_and_names_the_snapshot(tmp_path, signum):
    name = long_run(tmp_path)
    process = start(tmp_path, name)
    wait_for_cycles(process)
    os.kill(process.pid, signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, (process.returncode, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"stopped by {signal.Signals(signum).name} at cycle" in lines[0]
    snapshot = lines[0].split("--restart ")[1]
    assert (tmp_path / snapshot).is_file()
    assert gdf.read_header(tmp_path / snapshot)["time"] > 0.0
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_sigterm_can_write_a_snapshot_to_continue_from(tmp_path):
    name = long_run(tmp_path, snapshot_on_sigterm=True)
    process = start(tmp_path, name)
    wait_for_cycles(process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    snapshot = err.strip().split("--restart ")[1]
    header = gdf.read_header(tmp_path / snapshot)
    stopped_at = int(err.split("at cycle ")[1].split(",")[0])
    assert header["cycle"] == stopped_at  # the state of the cycle the run stopped after
    result = hydro(tmp_path, "run", name, "--restart", snapshot, "time.nlim=" +
                   str(stopped_at + 2))
    assert result.returncode == 0, result.stderr


def test_sigint_stops_every_rank(tmp_path):
    """Under mpiexec, Ctrl-C reaches mpiexec; the ranks agree to stop after one cycle."""
    name = long_run(tmp_path)
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    process = start(tmp_path, name, launcher=(mpiexec, "-n", "2"))
    wait_for_cycles(process)
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode != 0
    assert err.count("stopped by SIGINT") == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err


# -- pipes, first runs, small things ---------------------------------------------------

def test_output_piped_to_head(tmp_path):
    listing = subprocess.run(f"{sys.executable} -m hydro problems | head -2", shell=True,
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert len(listing.stdout.splitlines()) == 2 and listing.stderr == ""
    name = sod(tmp_path)
    run = subprocess.run(f"{sys.executable} -m hydro run {name} time.log_every=1 | head -1",
                         shell=True, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.stderr == "", run.stderr
    assert sorted(os.listdir(tmp_path / "out"))[-2:] == ["sod.00004.h5", "sod.hst"]


def test_first_run_on_an_empty_cache_says_it_compiles(tmp_path):
    """Said once, on the run that compiles; the next run loads the kernels quietly."""
    name = write(tmp_path, {"problem": "sod", "mesh": {"nx": [16]},
                            "hydro": {"reconstruction": "pcm", "riemann": "llf"},
                            "time": {"tlim": 0.01}, "output": {"dir": "out"}})
    env = os.environ | {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "hydro", "run", name, *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600,
                              env=env)

    first = run()
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("compiling the numba kernels") == 1
    second = run("--overwrite")
    assert second.returncode == 0, second.stderr
    assert "compiling" not in second.stdout


def test_a_run_of_one_cycle_reports_a_throughput(tmp_path):
    name = sod(tmp_path)
    result = hydro(tmp_path, "run", name, "time.nlim=1")
    assert result.returncode == 0, result.stderr
    assert "nan" not in result.stdout
    rate = result.stdout.strip().splitlines()[-1].split("zone-cycles/s = ")[1]
    assert float(rate) > 0
    assert "1 rank(s) as 1," in result.stdout  # the process grid of a 1D run
