"""MPI: the same bits for any number of ranks and any process grid, restart across
rank counts, and a clean stop when one rank fails.  Runs `mpiexec` from the
virtual environment (the mpich wheel); 4 ranks on 2 cores is fine."""

import os
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

from common import simulate
from hydro.io import gdf, history

MPIEXEC = str(pathlib.Path(sys.executable).parent / "mpiexec")

CASES = {
    "sod-1d": {"problem": "sod", "mesh": {"nx": [61], "boundary": ["outflow"]},
               "hydro": {"gamma": 1.4, "reconstruction": "plm", "riemann": "hllc",
                         "integrator": "vl2"}, "time": {"tlim": 0.1}},
    "kh-2d": {"problem": "kelvin_helmholtz",
              "mesh": {"nx": [30, 22], "boundary": ["periodic", "periodic"]},
              "hydro": {"reconstruction": "ppm", "riemann": "exact", "integrator": "rk3"},
              "time": {"tlim": 0.1}},
    "dmr-2d": {"problem": "double_mach",
               "mesh": {"nx": [40, 13], "xmin": [0.0, 0.0], "xmax": [4.0, 1.0],
                        "boundary": [["user", "outflow"], "user"]},
               "hydro": {"gamma": 1.4, "reconstruction": "plm", "riemann": "hlle",
                         "integrator": "rk2", "limiter": "vanleer"}, "time": {"tlim": 0.02}},
    "blast-3d": {"problem": "blast", "mesh": {"nx": [14, 12, 13], "boundary": ["periodic"] * 3},
                 "hydro": {"reconstruction": "pcm", "riemann": "llf", "integrator": "rk2"},
                 "time": {"tlim": 0.05}},
    "sedov-3d": {"problem": "sedov",
                 "mesh": {"nx": [12, 12, 12], "xmin": [0.0] * 3, "xmax": [0.5] * 3,
                          "boundary": [["reflecting", "outflow"]] * 3},
                 "hydro": {"reconstruction": "plm", "riemann": "hllc", "integrator": "vl2",
                           "limiter": "minmod"},
                 "time": {"tlim": 0.01},
                 "problem_params": {"center": [0.0] * 3, "radius": 0.1, "energy": 0.125}},
    "cool-2d": {"problem": "kelvin_helmholtz", "units": {"length": "pc", "mass": "Msun",
                                                         "time": "kyr"},
                "mesh": {"nx": [20, 18], "boundary": ["periodic", "periodic"]},
                "cooling": {"table": [[1e4, 1e-19], [1e5, 1e-17], [1e7, 1e-18], [1e9, 3e-18]]},
                "time": {"tlim": 0.05}},
    # the flux correction triggers here, so its flags cross the block faces
    "noh-3d": {"problem": "noh", "mesh": {"nx": [16, 16, 16], "xmin": [0.0] * 3,
                                          "xmax": [1.0] * 3,
                                          "boundary": [["reflecting", "user"]] * 3},
               "time": {"tlim": 0.2}},
    "gravity-2d": {"problem": "hydrostatic",
                   "mesh": {"nx": [20, 16], "xmin": [-1, -1], "xmax": [1, 1],
                            "boundary": ["user", "user"]},
                   "hydro": {"reconstruction": "ppm", "integrator": "rk3"},
                   "time": {"tlim": 0.1},
                   "problem_params": {"G": 1.0, "mass": 0.3, "cluster_mass": 0.5,
                                      "center": [0.1, -0.05, 0.0]}},
    "wind-1d": {"problem": "cluster_wind",
                "mesh": {"nx": [60], "xmin": [0.0], "xmax": [6.0],
                         "boundary": [["reflecting", "outflow"]], "geometry": "spherical"},
                "time": {"tlim": 2.0}},
    "wind-3d": {"problem": "cluster_wind",
                "mesh": {"nx": [12, 12, 12], "boundary": ["outflow"] * 3},
                "time": {"tlim": 0.1},
                "problem_params": {"center": [0.45, 0.5, 0.55], "radius": 0.2,
                                   "rho_ambient": 0.1, "p_ambient": 0.1}},
    "snr-1d": {"problem": "snr",
               "mesh": {"nx": [90], "xmin": [0.0], "xmax": [1.0],
                        "boundary": [["reflecting", "outflow"]], "geometry": "spherical"},
               "hydro": {"dual_energy": 1e-3, "pfloor": 1e-30}, "time": {"tlim": 0.2}},
}
# (case, ranks, mesh.ranks): uneven splits, every axis split, several layouts
RUNS = [(case, n, ranks, 1) for case, n, ranks in [
    ("sod-1d", 2, None), ("sod-1d", 3, None), ("sod-1d", 4, None),
    ("kh-2d", 3, None), ("kh-2d", 4, [4, 1]), ("kh-2d", 4, [1, 4]), ("kh-2d", 4, [2, 2]),
    ("dmr-2d", 3, [1, 3]), ("dmr-2d", 4, [2, 2]),
    ("blast-3d", 2, None), ("blast-3d", 4, [1, 1, 4]), ("blast-3d", 4, [2, 2, 1]),
    ("sedov-3d", 4, [1, 2, 2]), ("cool-2d", 3, None), ("noh-3d", 4, [2, 2, 1]),
    ("gravity-2d", 3, [3, 1]), ("wind-1d", 3, None), ("wind-3d", 4, [2, 1, 2]),
    ("snr-1d", 3, None)]]
# threads inside ranks (hydro.core.threads): 2D cuts the y sweep's i range, 3D shares
# pencils; hybrid runs too.  The reference runs use one thread.
THREADED_RUNS = [("kh-2d", 1, None, 2), ("dmr-2d", 2, [1, 2], 2), ("blast-3d", 1, None, 3),
                 ("noh-3d", 2, [2, 1, 1], 2), ("gravity-2d", 1, None, 2),
                 ("wind-3d", 2, [1, 1, 2], 2), ("sod-1d", 1, None, 2)]


def mpirun(n, params, tmp_path, *extra, timeout=300, threads=1, env=None):
    """Run `hydro run` on n ranks of ``threads`` threads with a parameter file written
    from ``params``."""
    path = tmp_path / f"run{n}.yaml"
    path.write_text(yaml.safe_dump(params))
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, "-m", "hydro", "run",
                           str(path), *extra], capture_output=True, text=True, timeout=timeout,
                          env=os.environ | {"NUMBA_NUM_THREADS": str(threads)} | (env or {}))


def assemble(path, name, nx):
    """A field of a GDF snapshot on the whole grid, from all of its grids, as [k, j, i]."""
    out = np.full(nx[::-1], np.nan)
    with h5py.File(path, "r") as f:
        for gid, (left, dims) in enumerate(zip(f["grid_left_index"][()],
                                               f["grid_dimensions"][()])):
            data = f["data"][f"grid_{gid:010d}"][name][()].T  # [ix, iy, iz] -> [k, j, i]
            out[tuple(slice(left[a], left[a] + dims[a]) for a in (2, 1, 0))] = data
    return out


def final_snapshot(directory):
    return sorted(pathlib.Path(directory).glob("*.h5"))[-1]


def assert_same_bits(a, b, nx):
    """Both snapshots hold exactly the same fields and conserved state."""
    nx3 = tuple(nx) + (1,) * (3 - len(nx))
    _, ua = gdf.read_conserved_region(a, (0, 0, 0), nx3)
    _, ub = gdf.read_conserved_region(b, (0, 0, 0), nx3)
    assert np.array_equal(ua, ub)
    with h5py.File(a, "r") as f:
        names = list(f["data"]["grid_0000000000"])
    assert "density" in names and "pressure" in names
    for name in names:
        fa, fb = assemble(a, name, nx3), assemble(b, name, nx3)
        assert not np.isnan(fa).any() and np.array_equal(fa, fb), name


@pytest.fixture(scope="module")
def serial_runs(tmp_path_factory):
    """Each case on one rank, in-process: the reference bits."""
    out = {}
    for name, params in CASES.items():
        directory = tmp_path_factory.mktemp(name)
        simulate(params | {"output": {"dt": params["time"]["tlim"] / 2}}, directory)
        out[name] = directory
    return out


@pytest.mark.parametrize("case,n,ranks,threads", RUNS + THREADED_RUNS,
                         ids=[f"{c}-n{n}-{r}-t{t}" for c, n, r, t in RUNS + THREADED_RUNS])
def test_same_bits_for_any_rank_count(case, n, ranks, threads, serial_runs, tmp_path):
    params = yaml.safe_load(yaml.safe_dump(CASES[case]))
    params["output"] = {"dir": str(tmp_path / "out"), "dt": params["time"]["tlim"] / 2}
    params["mesh"]["ranks"] = ranks
    result = mpirun(n, params, tmp_path, threads=threads)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[hydro] done:") == 1  # only rank 0 logs
    assert f"{threads} thread(s) each" in result.stdout
    assert_same_bits(final_snapshot(tmp_path / "out"), final_snapshot(serial_runs[case]),
                     params["mesh"]["nx"])
    # history totals are exact sums: the same bits too
    ref = history.read(next(pathlib.Path(serial_runs[case]).glob("*.hst")))
    assert history.read(next((tmp_path / "out").glob("*.hst"))) == ref


def test_restart_on_another_rank_count(tmp_path):
    """Written on 4 ranks, continued on 2: the same bits as one uninterrupted rank."""
    params = yaml.safe_load(yaml.safe_dump(CASES["kh-2d"]))
    params["time"]["tlim"] = 0.15
    params["output"] = {"dt": 0.05}
    reference = simulate(params, tmp_path / "one")
    params["output"]["dir"] = str(tmp_path / "four")
    assert mpirun(4, params, tmp_path).returncode == 0
    params["output"]["dir"] = str(tmp_path / "two")
    (tmp_path / "two").mkdir()
    restart = tmp_path / "two" / "kelvin_helmholtz.00001.h5"
    restart.write_bytes((tmp_path / "four" / "kelvin_helmholtz.00001.h5").read_bytes())
    result = mpirun(2, params, tmp_path, "--restart", str(restart))
    assert result.returncode == 0, result.stderr
    assert_same_bits(tmp_path / "two" / "kelvin_helmholtz.00003.h5",
                     reference.snapshots_written[-1], params["mesh"]["nx"])


FAILING = '''"""A problem that fails on the block away from the origin (test only)."""
import numpy as np

PARAMETERS = []


def initial_conditions(w, block, mesh, p, gamma):
    a = block.active
    w[0][a] = 1.0
    w[4][a] = 1.0
    if block.left_index[0] > 0:
        {action}
'''


@pytest.mark.parametrize("action,message", [
    ("raise RuntimeError('initial state out of range')",
     "rank 1: run failed: RuntimeError: initial state out of range"),
    ("w[4][a] = np.nan", "rank 1: NaN or inf in the state at cycle 0"),
])
def test_one_failing_rank_stops_all(action, message, tmp_path):
    """One clear line naming the rank and the cause, non-zero exit, no hang, no traceback."""
    (tmp_path / "failing.py").write_text(FAILING.format(action=action))
    params = {"problem": "failing.py", "mesh": {"nx": [32], "boundary": ["periodic"]},
              "time": {"tlim": 0.1}, "output": {"dir": str(tmp_path / "out")}}
    result = mpirun(2, params, tmp_path, timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("hydro:")]
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_bad_rank_layout_is_a_config_error(tmp_path):
    params = yaml.safe_load(yaml.safe_dump(CASES["kh-2d"]))
    params["mesh"]["ranks"] = [3, 1]
    params["output"] = {"dir": str(tmp_path / "out")}
    result = mpirun(2, params, tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("mesh.ranks") == 1
    assert not (tmp_path / "out").exists()


def test_a_fresh_kernel_cache_is_filled_once_by_four_ranks(tmp_path):
    """Rank 0 compiles every kernel of the run (hydro, cooling, gravity, sums) before
    the others start, and the first-order flux correction when cells first fall
    below the floors (a near-vacuum ambient medium): on an empty cache no kernel is
    compiled twice, and the next run compiles nothing."""
    params = {"problem": "blast_gravity", "units": {"length": "pc", "mass": "Msun",
                                                    "time": "kyr"},
              "mesh": {"nx": [12, 12, 12], "boundary": ["outflow"] * 3},
              "cooling": {"table": "sd93"}, "problem_params": {"p_out": 1e-9},
              "time": {"tlim": 1.0, "nlim": 2},
              "output": {"dir": str(tmp_path / "out"), "dt": 0.5}}
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NUMBA_DEBUG_CACHE": "1"}
    first = mpirun(4, params, tmp_path, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    saved = [ln for ln in first.stdout.splitlines() if ln.startswith("[cache] data saved")]
    assert len(saved) > 10 and len(saved) == len(set(saved)), \
        sorted(ln for ln in saved if saved.count(ln) > 1)
    assert "compiling the first-order flux correction" in first.stdout
    second = mpirun(4, params, tmp_path, "--overwrite", env=env)
    assert second.returncode == 0, second.stderr
    assert "[cache] data saved" not in second.stdout


@pytest.mark.parametrize("ranks", [[2, 2, 1], [4, 1, 1]])
def test_halo_traffic_matches_the_scaling_model(ranks, tmp_path):
    """Messages and bytes per rank as the README's model predicts: per ghost fill two
    messages per split axis, each ng layers of nvar doubles over the block's
    cross-section including ghosts, and two more with the flux-correction flags
    (one byte per cell); VL2 fills twice per cycle.  (An axis with one rank wraps
    onto the block itself: a copy, no message.)"""
    nx, ng, nvar, cycles = 32, 3, 5, 4
    n = [nx // p + 2 * ng for p in ranks]
    cross_sections = [n[1] * n[2], n[0] * n[2], n[0] * n[1]]
    split = [a for a in range(3) if ranks[a] > 1]
    per_fill = sum(2 * (8 * nvar + 1) * ng * cross_sections[a] for a in split)
    params = {"problem": "blast", "mesh": {"nx": [nx] * 3, "boundary": ["periodic"] * 3,
                                           "ranks": ranks},
              "time": {"tlim": 1.0, "nlim": cycles},
              "output": {"dir": str(tmp_path / "out"), "snapshots": False}}
    result = mpirun(4, params, tmp_path)
    assert result.returncode == 0, result.stderr
    expected = (f"halo messages {4 * len(split) * 2 * cycles} "
                f"({per_fill * 2 * cycles / 2 ** 20:.1f} MiB)")
    assert result.stdout.count(expected) == 4, result.stdout


def test_bad_restart_file_on_all_ranks_is_one_line(tmp_path):
    params = yaml.safe_load(yaml.safe_dump(CASES["kh-2d"]))
    params["output"] = {"dir": str(tmp_path / "out")}
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not a snapshot")
    result = mpirun(2, params, tmp_path, "--restart", str(bad), timeout=120)
    assert result.returncode == 2  # bad input, found before anything runs
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "broken.h5" in lines[0] and "Traceback" not in result.stderr
