"""The ``hydro`` command line: run, check, problems, bench, plot."""

import argparse
import logging
import os
import sys

from hydro import __version__
from hydro.core import config, interrupt, problem
from hydro.io import output_dir

log = logging.getLogger("hydro")


def _on_rank0(comm, action):
    """action() on rank 0 only (file-system checks and changes); its result, or its
    ConfigError, on every rank."""
    result = None
    if comm.Get_rank() == 0:
        try:
            result = (True, action())
        except config.ConfigError as e:
            result = (False, str(e))
    ok, value = comm.bcast(result, root=0)
    if not ok:
        raise config.ConfigError(value)
    return value


def _run(args):
    from mpi4py import MPI

    from hydro.core import system as systems
    from hydro.core.mesh import Mesh
    from hydro.core.parallel import process_grid

    cfg, module = config.load(args.params, args.overrides)
    m = cfg["mesh"]
    mesh = Mesh(m["nx"], m["xmin"], m["xmax"],
                systems.get(systems.system_name(module)).ghost_cells(cfg, module),
                m["geometry"])
    process_grid(MPI.COMM_WORLD.Get_size(), mesh.nx, mesh.ng, mesh.ndim, m["ranks"])

    def prepare_outputs():  # before anything compiles: a bad restart or directory is exit 2
        if args.restart is None:
            return output_dir.prepare(cfg, None, args.overwrite)
        header = output_dir.check_restart(args.restart, cfg)
        return [f"restart from {args.restart}: t = {float(header['time']):.6e}, cycle "
                f"{header['cycle']}"] + output_dir.prepare(cfg, header, args.overwrite)

    for line in _on_rank0(MPI.COMM_WORLD, prepare_outputs):
        log.info(line)
    from hydro.core.driver import Simulation  # numba compiles on import: only once the run is valid
    sim = Simulation(cfg, module, restart=args.restart)
    sim.run(restarted=args.restart is not None)
    return 0


def _check(args):
    cfg, _ = config.load(args.params, args.overrides)
    print(config.dump(cfg), end="")
    return 0


def _problems(args):
    if args.name is None:
        names = problem.available()
        width = max(map(len, names))
        for name in names:
            print(f"{name:<{width}}  {problem.summary(problem.load(name))}")
        return 0
    try:
        print(problem.describe(args.name))
    except problem.ProblemError:
        raise config.ConfigError(f"problems: unknown problem '{args.name}'"
                                 f"{config.closest(args.name, problem.available())}") from None
    except problem.BrokenProblem as e:
        raise config.ConfigError(str(e)) from None
    return 0


def parser():
    p = argparse.ArgumentParser(prog="hydro", description=__doc__)
    p.add_argument("--version", action="version", version=f"hydro {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a simulation from a parameter file")
    run.add_argument("params", help="YAML parameter file")
    run.add_argument("overrides", nargs="*", metavar="block.key=value",
                     help="override a parameter, e.g. mesh.nx=[256,256] time.tlim=0.3")
    run.add_argument("--restart", metavar="FILE", help="continue from this snapshot")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an earlier run's files in output.dir (as output.overwrite)")
    run.set_defaults(func=_run)
    check = sub.add_parser("check", help="validate a parameter file and print it resolved")
    check.add_argument("params")
    check.add_argument("overrides", nargs="*", metavar="block.key=value")
    check.set_defaults(func=_check)
    probs = sub.add_parser("problems", help="list problems, or one problem's parameters")
    probs.add_argument("name", nargs="?")
    probs.set_defaults(func=_problems)
    # `hydro bench ...` is handed whole to hydro.bench (listed here for --help)
    sub.add_parser("bench", help="throughput and memory benchmark (hydro bench --help)")
    sub.add_parser("plot", help="slice or profile of a snapshot with yt (hydro plot --help)")
    sub.add_parser("xray", help="X-ray maps, FITS, light curves, spectra (hydro xray --help)")
    return p


class _LogHandler(logging.StreamHandler):
    """The log on stdout; if stdout goes away (``hydro run ... | head``), the run goes
    on without its log instead of printing a "Logging error" per line."""

    def handleError(self, record):
        if isinstance(sys.exc_info()[1], BrokenPipeError):
            _silence_stdout()
            self.setStream(sys.stdout)
        else:
            super().handleError(record)


def _silence_stdout():
    """Point stdout at /dev/null, so that nothing more fails on a closed pipe (not
    even the interpreter's final flush)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv=None):
    try:
        return _main(argv)
    except BrokenPipeError:  # `hydro problems | head`: the reader has what it wanted
        _silence_stdout()
        return 0


def _main(argv):
    if not logging.getLogger().handlers:
        logging.basicConfig(format="[hydro] %(message)s", level=logging.INFO,
                            handlers=[_LogHandler(sys.stdout)])
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from hydro import bench
        return bench.main(argv[1:])
    if argv[:1] == ["plot"]:
        from hydro.analysis import plot
        return plot.main(argv[1:])
    if argv[:1] == ["xray"]:
        from hydro.analysis import xray
        return xray.main(argv[1:])
    p = parser()
    args, extra = p.parse_known_args(argv)
    if extra:  # overrides after --restart FILE: argparse leaves them unparsed
        if getattr(args, "overrides", None) is None or any(e.startswith("-") for e in extra):
            p.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides += extra
    from mpi4py import MPI

    from hydro.core.driver import RunError
    comm = MPI.COMM_WORLD
    if comm.Get_rank() != 0:
        logging.getLogger("hydro").setLevel(logging.WARNING)
    if args.func is _run:
        interrupt.flag.install()
    try:
        return args.func(args)
    # Configuration and run errors are found by every rank alike: rank 0 reports them.
    except config.ConfigError as e:
        if comm.Get_rank() == 0:
            print(f"hydro: error: {e}", file=sys.stderr)
        return 2
    except RunError as e:
        if comm.Get_rank() == 0:
            print(f"hydro: run failed: {e}", file=sys.stderr)
        return 1
    except interrupt.Interrupted as e:
        # a stop after a cycle is agreed by all ranks; during set-up, or on a second
        # signal, a rank stops at once and ends the others
        if comm.Get_rank() == 0:
            print(f"hydro: {e}", file=sys.stderr, flush=True)
        if not e.collective and comm.Get_size() > 1:
            comm.Abort(e.exit_status)
        return e.exit_status
    except KeyboardInterrupt:
        print("hydro: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise  # stdout closed by its reader: see main
    except Exception as e:  # on one rank only (a failing problem hook, a bug)
        if os.environ.get("HYDRO_DEBUG"):
            raise
        where = f"rank {comm.Get_rank()}: " if comm.Get_size() > 1 else ""
        print(f"hydro: {where}run failed: {type(e).__name__}: {e} "
              f"(set HYDRO_DEBUG=1 for the traceback)", file=sys.stderr, flush=True)
        if comm.Get_size() > 1:
            comm.Abort(1)  # the other ranks wait in a collective: end them all now
        return 1
    finally:
        interrupt.flag.uninstall()
