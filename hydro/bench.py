"""Benchmark: 3D adiabatic blast (PLM + HLLC + VL2 by default), outputs off.

Prints zone-cycles per second (cells x cycles / wall time of the main loop,
first cycle excluded so that compilation does not count) and the peak
resident memory per cell (all ranks together).  Each measurement runs in
fresh processes (under the virtual environment's ``mpiexec`` for several
ranks) so that the peak memory belongs to that size alone; the median, min
and max over ``--repeat`` runs are reported, and for several ranks the
parallel efficiency against one rank.

    hydro bench [--sizes 64 128] [--ranks 1 2] [--threads 1 2] [--cycles 20]
                [--repeat 3] [--reconstruction plm] [--riemann hllc] [--integrator vl2]
    hydro bench --compare [--sizes ...] [--ranks ...] [--threads ...]   # CONFIGURATIONS
    hydro bench --phase-space [--sizes 512 1024] [--ranks 1 2]          # f(z, v_z)

``--threads`` sets ``NUMBA_NUM_THREADS`` for each rank (one by default).

``--phase-space`` measures the phase-space system instead: the fiducial bending
kick of ``runs/phase_mixing_kick.yaml`` on n^2 cells (sizes 512 and 1024 by
default), in cell updates per second (a step: a half z-drift, a v-kick and a
half z-drift).

``--compare`` measures every configuration in ``CONFIGURATIONS`` at every size
(the phase-space row on as many cells: 512^2 for 64^3) and rank count and prints
one table (for the README's performance section);
its repeats go round all rows in turn, so that the rows' ratios survive a
machine whose speed drifts.
"""

import argparse
import itertools
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile

from hydro.core import reconstruct
from hydro.euler import riemann


# the phase-space row: the bending kick of runs/phase_mixing_kick.yaml on n^2 cells, a
# step of 1/160 of the vertical period (its rate is cell updates, three sweeps each)
PHASE_SPACE = "phase space (z, v_z): PPM sweeps, Strang"
PHASE_SPACE_SIZES = (512, 1024)


def phase_space_side(n):
    """The side of the phase-space grid with as many cells as an n^3 cube (64 -> 512)."""
    return round(n ** 1.5)


# name: (problem, hydro options, cooling block, units); the physics row has two
# scalars, a point-mass potential and SD93 cooling, in pc, Msun and kyr, where the
# blast is gas of ~30 H atoms per cm^3 at ~1e7 K (cooling time ~100 kyr, dt ~1e-3 kyr)
CONFIGURATIONS = {
    "plm+hllc+vl2": ("blast", {}, {}, {}),
    "ppm+hllc+rk3": ("blast", {"reconstruction": "ppm", "integrator": "rk3"}, {}, {}),
    "plm+exact+vl2": ("blast", {"riemann": "exact"}, {}, {}),
    "plm+hllc+vl2 +2 scalars, gravity, cooling": (
        "blast_gravity", {}, {"table": "sd93"}, {"length": "pc", "mass": "Msun", "time": "kyr"}),
    PHASE_SPACE: ("phase_mixing", {}, {}, {}),
}


class BenchError(Exception):
    """A measurement that failed; the message is one line for the user."""


def positive(text):
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _run_file(n, cycles, problem, hydro, cooling, units):
    """The run-file mapping of one measurement: a 3D blast in a periodic n^3 cube, or
    (problem phase_mixing) the fiducial bending kick on n^2 phase-space cells."""
    common = {"time": {"tlim": 1e30, "nlim": cycles + 1, "log_every": 10 ** 9},
              "output": {"snapshots": False, "history_dt": 1e30}}
    if problem == "phase_mixing":
        return common | {
            "problem": problem, "units": {"length": "kpc", "time": "Myr", "mass": "Msun"},
            "mesh": {"nx": [n, n], "xmin": ["-2.5 kpc", "-100 km/s"],
                     "xmax": ["2.5 kpc", "100 km/s"]}}
    return common | {
        "problem": problem,
        "mesh": {"nx": [n, n, n], "boundary": ["periodic"] * 3},
        "hydro": {"gamma": 5.0 / 3.0, "cfl": 0.3} | hydro,
        "cooling": cooling,
        "units": units}


def measure(n, cycles, problem, hydro, cooling, units):
    """Run one measurement (``_run_file``) for ``cycles`` cycles in this process."""
    from hydro.core import config
    from hydro.core.driver import Simulation

    with tempfile.TemporaryDirectory() as tmp:
        run_file = _run_file(n, cycles, problem, hydro, cooling, units)
        run_file["output"]["dir"] = tmp
        cfg, module = config.resolve(run_file)
        logging.getLogger("hydro").setLevel(logging.WARNING)
        sim = Simulation(cfg, module)
        sim.run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    peaks = sim.parallel.gather(peak)
    if peaks is None:
        return None
    return {"zone_cycles_per_s": sim.zone_cycles_per_second,
            "bytes_per_cell": sum(peaks) / sim.mesh.ncells}


def _run(n, ranks, threads, args, configuration):
    """One measurement of one configuration, in fresh processes."""
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    launch = [mpiexec, "-n", str(ranks)] if ranks > 1 else []
    env = os.environ | {"NUMBA_NUM_THREADS": str(threads)}
    out = subprocess.run(
        launch + [sys.executable, "-m", "hydro.bench", "--one", str(n), "--cycles",
                  str(args.cycles), "--configuration", json.dumps(configuration)],
        capture_output=True, text=True, env=env)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no message"])[-1]
        cells = f"{n}^2" if configuration[0] == "phase_mixing" else f"{n}^3"
        raise BenchError(f"the {cells} run on {ranks} rank(s) x {threads} thread(s) failed: "
                         f"{last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(runs):
    """Median, min and max zone-cycles/s and the median bytes per cell of some runs."""
    zc = [r["zone_cycles_per_s"] for r in runs]
    mem = [r["bytes_per_cell"] for r in runs]
    return statistics.median(zc), min(zc), max(zc), statistics.median(mem)


def _runs(n, ranks, threads, args, configuration):
    """``args.repeat`` measurements of one configuration, each in fresh processes."""
    return _summary([_run(n, ranks, threads, args, configuration)
                     for _ in range(args.repeat)])


def main(argv=None):
    p = argparse.ArgumentParser(prog="hydro bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=positive, nargs="+",
                   help="cells per side (default: 64 128; phase space: 512 1024)")
    p.add_argument("--ranks", type=positive, nargs="+", default=[1],
                   help="MPI ranks per measurement (several: strong scaling)")
    p.add_argument("--threads", type=positive, nargs="+", default=[1],
                   help="threads per rank (several: thread scaling)")
    p.add_argument("--cycles", type=positive, default=20)
    p.add_argument("--repeat", type=positive, default=3)
    p.add_argument("--reconstruction", default="plm", choices=sorted(reconstruct.CODES))
    p.add_argument("--riemann", default="hllc", choices=sorted(riemann.CODES))
    p.add_argument("--integrator", default="vl2", choices=("vl2", "rk2", "rk3"))
    p.add_argument("--phase-space", action="store_true",
                   help="measure the phase-space system f(z, v_z) on n^2 cells")
    p.add_argument("--compare", action="store_true",
                   help="measure every configuration of CONFIGURATIONS and print a table")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    p.add_argument("--configuration", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        return _bench(args)
    except BenchError as e:
        print(f"hydro bench: error: {e}", file=sys.stderr)
        return 1


def _bench(args):
    if args.sizes is None:
        args.sizes = list(PHASE_SPACE_SIZES) if args.phase_space else [64, 128]
    if args.one is not None:
        result = measure(args.one, args.cycles, *json.loads(args.configuration))
        if result is not None:
            print(json.dumps(result))
        return 0
    if args.compare:
        print(f"3D blast in a periodic cube (phase space: the fiducial bending kick), "
              f"{args.cycles} cycles, median [min, max] of {args.repeat} runs\n")
        rows = [(name, n, ranks, threads) for name in CONFIGURATIONS
                for n in ([phase_space_side(n) for n in args.sizes] if name == PHASE_SPACE
                          else args.sizes)
                for ranks, threads in itertools.product(args.ranks, args.threads)]
        # round robin: each repeat measures every row once, so that a machine whose
        # speed drifts (shared cores) shifts all rows alike and their ratios hold
        runs = {row: [] for row in rows}
        for _ in range(args.repeat):
            for name, n, ranks, threads in rows:
                runs[name, n, ranks, threads].append(
                    _run(n, ranks, threads, args, CONFIGURATIONS[name]))
        print("| configuration | cells | ranks x threads | zone-cycles/s | bytes/cell |")
        print("| --- | --- | --- | --- | --- |")
        for name, n, ranks, threads in rows:
            median, low, high, mem = _summary(runs[name, n, ranks, threads])
            cells = f"{n}^2" if name == PHASE_SPACE else f"{n}^3"
            print(f"| {name} | {cells} | {ranks} x {threads} | {median:.2e} "
                  f"[{low:.2e}, {high:.2e}] | {mem:.0f} |")
        return 0
    scheme = {"reconstruction": args.reconstruction, "riemann": args.riemann,
              "integrator": args.integrator}
    configuration = CONFIGURATIONS[PHASE_SPACE] if args.phase_space else \
        ("blast", scheme, {}, {})
    what = PHASE_SPACE if args.phase_space else \
        f"3D blast, {' + '.join(s.upper() for s in scheme.values())}"
    print(f"{what}, {args.cycles} cycles, median [min, max] of {args.repeat} runs")
    rate = "cell updates/s" if args.phase_space else "zone-cycles/s"
    for n in args.sizes:
        single = None
        for ranks, threads in itertools.product(args.ranks, args.threads):
            median, low, high, mem = _runs(n, ranks, threads, args, configuration)
            single = median if ranks * threads == 1 else single
            cores = ranks * threads
            efficiency = (f"   efficiency {median / (cores * single):.0%}"
                          if single and cores > 1 else "")
            cells = f"{n:4d}^{2 if args.phase_space else 3}"
            print(f"{cells} {ranks:3d} rank(s) x {threads} thread(s)  {rate} = "
                  f"{median:.3e} [{low:.3e}, {high:.3e}]   bytes/cell = {mem:.0f}{efficiency}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
