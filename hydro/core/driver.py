"""The simulation driver: builds mesh, system and state from a resolved
configuration, then loops dt -> integrator cycle -> history, snapshots, log.

It serves any system of equations (``hydro.core.system``: Euler by default, or the one
the problem module names in ``SYSTEM``) without knowing which: the system says
what its arrays hold, which step they allow, how a cycle advances them, and
what the snapshots, the history and the log show of them.

The time step is the CFL step, shortened so that the run lands exactly on
every snapshot time and on ``tlim``.
"""

import logging
import math
import os
import threading
import time as wallclock
from dataclasses import dataclass, field
from typing import Optional
from types import SimpleNamespace

import numpy as np

from hydro import __version__
from hydro.core import boundary, config, interrupt, parallel
from hydro.io import gdf, history, output_dir
from hydro.core import system as systems
from hydro.core.boundary import first_ghost_layer
from hydro.core.mesh import Block, Mesh
from hydro.core.parallel import Parallel

log = logging.getLogger("hydro")


class RunError(Exception):
    """A run that cannot go on (non-finite state, a collapsed time step, a bad restart
    file, a failing hook)."""


# a time step below this fraction of the time would take ~1e10 cycles to double t
DT_COLLAPSE = 1e-10
# say that kernels are compiling when loading them from the cache takes longer
COMPILE_NOTICE_AFTER = 2.0
# wall-clock seconds between progress lines when time.log_every is not set
LOG_INTERVAL = 10.0


@dataclass
class State:
    """One block's arrays: conserved u, its copy at the cycle start u0, primitives w;
    the faces' mass fluxes when the run's sources need them; ``scratch``, the arrays
    the system keeps for the block between cycles (Euler: the flux-correction flags)."""

    block: Block
    u: np.ndarray
    u0: np.ndarray
    w: np.ndarray
    mass_flux: Optional[np.ndarray] = None
    scratch: dict = field(default_factory=dict)
    crossing_time: float = float("nan")  # the system's step at cfl = 1 of the current w


def _format_duration(seconds):
    if not math.isfinite(seconds):
        return "--:--:--"
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Simulation:
    def __init__(self, cfg, module, restart=None):
        self.cfg = cfg
        self.module = module
        self.p = SimpleNamespace(**cfg["problem_params"])
        m = cfg["mesh"]
        self.system = systems.build(cfg, module)
        self.units = config.unit_system(cfg["units"])
        self.mesh = Mesh(m["nx"], m["xmin"], m["xmax"], self.system.nghost, m["geometry"])
        periodic = [a < self.mesh.ndim and m["boundary"][a][0] == "periodic" for a in range(3)]
        self.parallel = Parallel(self.mesh, m["ranks"], periodic)
        self.boundaries = boundary.Boundaries(m["boundary"], self.mesh.ndim, self.parallel,
                                              getattr(module, "boundary", None), self.p,
                                              self.system)
        sources = self.system.source_terms(module, self.p, self.mesh, self.units)
        self.sources = sources
        # cumulative amounts since t = 0 that close the budgets of the conserved totals:
        # what sources added or removed, and what left through the domain faces
        self.budget = {name: 0.0 for s in sources for name in s.budget_names}
        self._pending = {}  # per-cell amounts not yet in the budget
        self.open_faces = [(a, side) for a in range(self.mesh.ndim) for side in (0, 1)
                           if m["boundary"][a][side] != "periodic"]
        if self.open_faces:
            self.budget.update({f"outflow_{name}": 0.0 for name, _ in
                                self.system.outflow_variables(self.mesh.geometry)})
        self.integrator = self.system.make_integrator(self.boundaries, sources, self.mesh.ndim)
        block = self.parallel.block
        self.states = [State(block, *(self.system.allocate(block) for _ in range(3)))]
        # rank 0 compiles (or loads) the kernels first, so that ranks never race on the cache
        self.parallel.rank0_first(self._warm_up)
        self.time = 0.0
        self.cycle = 0
        self.output_index = 0  # number of the next snapshot file
        self.last_snapshot = (None, math.nan)  # (path, time) to restart from
        self.output_step = 0  # k of the next scheduled snapshot time (k * output.dt)
        self.next_history = 0.0
        self.restart = restart
        if restart is None:
            self._initial_conditions()
        else:
            self._read_restart(restart)
        self._primitives()

    @property
    def cooling(self):
        """The run's cooling source, if its system has one (None otherwise)."""
        return getattr(self.system, "cooling", None)

    # -- set-up ------------------------------------------------------------

    def _warm_up(self):
        """Compile or load every kernel the run uses.  Loading them from the cache
        takes about a second; if it takes longer, they are being compiled (a new
        install, a new scheme, an edited kernel module) and the user is told so
        rather than left with a silent terminal."""
        notice = threading.Timer(COMPILE_NOTICE_AFTER, log.info, [
            "compiling the numba kernels of this scheme (once: later runs load them from "
            "the cache); this usually takes 10-45 s"])
        notice.daemon = True
        notice.start()
        try:
            self.system.warm_up(self.mesh.ndim, self.mesh.geometry == "spherical",
                                self.integrator.combines)
            for source in self.sources:
                source.warm_up()
            parallel.warm_up()
        finally:
            notice.cancel()

    def _initial_conditions(self):
        for s in self.states:
            self.system.initial_state(self.module, s.w, s.u, s.block, self.mesh, self.p)

    def _read_restart(self, path):
        try:
            header = gdf.read_header(path)
        except (OSError, ValueError, KeyError) as e:
            raise RunError(f"{path}: cannot restart from it ({e})") from None
        stored = config.yaml.safe_load(header["params_yaml"])
        if stored["problem"] != self.cfg["problem"]:
            raise RunError(f"{path}: written by problem '{stored['problem']}', "
                           f"not '{self.cfg['problem']}'")
        if stored["mesh"]["nx"] != self.cfg["mesh"]["nx"]:
            raise RunError(f"{path}: mesh.nx is {stored['mesh']['nx']} in the snapshot, "
                           f"{self.cfg['mesh']['nx']} in the run")
        if int(header["nvar"]) != self.system.nvar:
            raise RunError(f"{path}: {header['nvar']} variables, the run has "
                           f"{self.system.nvar}")
        for s in self.states:  # this block's cells, whatever blocks wrote the file
            _, u = gdf.read_conserved_region(path, s.block.left_index, s.block.nx)
            s.u[(slice(None),) + s.block.active] = u
        self.time = float(header["time"])
        self.cycle = int(header["cycle"])
        self.last_snapshot = (path, self.time)
        self.output_index = int(header["output_index"]) + 1
        self.output_step = int(header.get("output_step", self.output_index))
        self.next_history = float(header["next_history"])
        stored = config.yaml.safe_load(header.get("budget", "{}"))
        if set(stored) != set(self.budget):
            raise RunError(f"{path}: its budget columns {sorted(stored)} differ from the "
                           f"run's {sorted(self.budget)}")
        self.budget.update(stored)

    def _primitives(self):
        """w from u with ghosts filled, and the Courant time step, for every block
        (before dt and outputs)."""
        for s in self.states:
            s.crossing_time = self.system.primitives(s.u, s.w, s.block, self.mesh.ndim)
            self.boundaries.fill(s.w, s.block, self.time)

    # -- schedule ----------------------------------------------------------
    def _snapshot_time(self, index):
        """Time of snapshot ``index``: multiples of output.dt, the last one at tlim."""
        tlim, dt_out = self.cfg["time"]["tlim"], self.cfg["output"]["dt"]
        t = tlim if dt_out is None else index * dt_out
        return tlim if t > tlim * (1.0 - 1e-12) else t

    def _limits(self, s):
        """[(time step at cfl = 1, what sets it)] on one block: the system's step, then
        each source's."""
        return self.system.limits(s, self.sources)

    def _timestep(self):
        """The next time step, from the state just computed: the system's step and the
        sources' limits, times the system's ``cfl``, and the system's last word.
        RunError if the state holds NaN or inf, or if the step has collapsed (below
        ``DT_COLLAPSE`` t or ``time.dt_min``), which would otherwise stall the run for
        hours."""
        local = min(dt for s in self.states for dt, _ in self._limits(s))
        dt, bad_rank = self.parallel.min(local)
        if bad_rank is not None or not dt > 0.0:
            raise RunError(self._nonfinite_report())
        step = self.system.limit_step(self.system.cfl * dt, self.states, self.parallel)
        floor = max(DT_COLLAPSE * self.time, self.cfg["time"]["dt_min"] or 0.0)
        if step < floor:
            raise RunError(self._collapse_report(step, floor, dt, local))
        return step

    # -- failures ----------------------------------------------------------
    def _cell_text(self, block, k, j, i):
        """A cell, given by its active (k, j, i) on ``block``, as its global index and
        centre, cut to the run's dimensions."""
        ndim = self.mesh.ndim
        local = (i, j, k)
        index = [int(block.left_index[a] + local[a]) for a in range(ndim)]
        centre = [float(block.centres[a][block.ng[a] + local[a]]) for a in range(ndim)]
        names = self.system.axis_names[:ndim]
        return (f"cell {', '.join(map(str, index))} ({', '.join(names)} = "
                f"{', '.join(f'{x:.6g}' for x in centre)})")

    def _nonfinite_report(self):
        """One line naming the lowest rank holding a cell that is not finite (or that
        the system finds invalid: Euler's without a positive density or pressure), the
        cycle and the cell.  Collective."""
        found = None
        for s in self.states:
            active = (slice(None),) + s.block.active
            u, w = s.u[active], s.w[active]
            bad = self.system.bad_cells(u, w)
            if found is None and bad.any():
                k, j, i = np.argwhere(bad)[0]
                found = (f"{self._cell_text(s.block, k, j, i)} "
                         f"{self.system.describe_cell(u, w, k, j, i)}")
        rank, text = self.parallel.first_holding(found)
        where = f"rank {rank}: " if rank is not None else ""
        return (f"{where}NaN or inf in the state at cycle {self.cycle}, t = {self.time:.6e}"
                f"{': ' + text if text else ''}; "
                f"{output_dir.restart_hint(*self.last_snapshot)}")

    def _collapse_report(self, step, floor, dt, local):
        """One line: the collapsed step, the cycle, and the cell (or source) that sets
        it on the rank that holds it.  Collective."""
        found = None
        if local == dt:
            s, (_, what) = min(((s, limit) for s in self.states for limit in self._limits(s)),
                               key=lambda pair: pair[1][0])
            found = (self.system.limit_text(s, what, self._cell_text, self.mesh.ndim)
                     or f"set by the {what} source term")
        rank, text = self.parallel.first_holding(found)
        limit = ("time.dt_min" if floor == self.cfg["time"]["dt_min"]
                 else f"{DT_COLLAPSE:g} of t")
        return (f"dt collapsed to {step:.6e} at cycle {self.cycle}, {text}, on rank {rank} "
                f"(t = {self.time:.6e}; the limit is {limit} = {floor:.6e}); "
                f"{output_dir.restart_hint(*self.last_snapshot)}")

    # -- outputs -----------------------------------------------------------
    def snapshot_path(self, index):
        out = self.cfg["output"]
        return os.path.join(out["dir"], f"{out['basename']}.{index:05d}.h5")

    def write_snapshot(self):
        """One GDF file, one grid per rank: rank 0 writes the header, the ranks add
        their grids in turn (serial HDF5 needs no rank to hold the whole domain),
        rank 0 renames the finished file."""
        self._flush_budget()  # the snapshot carries the budget up to its time
        start = wallclock.perf_counter()
        path = self.snapshot_path(self.output_index)
        mesh, system = self.mesh, self.system
        extra = getattr(self.module, "output_fields", None)
        # physical units when the run names them, or when the system makes its code
        # units physical (Euler's cooling tables in K and erg make them cgs); otherwise
        # dimensionless, marked so (and no Euler temperature in K)
        physical = self.units.declared or system.physical_units
        fields = []
        for s in self.states:
            f = system.output_fields(s.w, s.block, self.units, physical)
            f.update(extra(s.w, s.block, self.p) if extra is not None else {})
            fields.append(f)
        writer = None
        if self.parallel.rank == 0:
            kinds = self.cfg["mesh"]["boundary"] + [["periodic", "periodic"]] * (3 - mesh.ndim)
            left, right = mesh.xmin, mesh.xmax
            if mesh.geometry == "spherical":  # the full sphere in yt's (r, theta, phi)
                left, right = (mesh.xmin[0], 0.0, 0.0), (mesh.xmax[0], math.pi, 2.0 * math.pi)
            writer = gdf.SnapshotWriter(
                path, dimensionality=mesh.ndim, domain_dims=mesh.nx, geometry=mesh.geometry,
                domain_left=left, domain_right=right, time=self.time,
                cycle=self.cycle,
                boundary_codes=[boundary.GDF_CODES[k] for pair in kinds for k in pair],
                field_units={name: unit for name, (_, unit) in fields[0].items()},
                units=self.units.gdf_units() if physical else None,
                gamma=system.gdf_gamma, parameters=system.gdf_parameters(),
                restart_attrs={
                    "params_yaml": config.dump(self.cfg), "code_version": __version__,
                    "output_index": self.output_index, "output_step": self.output_step,
                    "next_history": self.next_history, "nvar": system.nvar,
                    "budget": config.yaml.safe_dump(
                        {k: float(v) for k, v in self.budget.items()}),
                    "conserved_names": ",".join(system.conserved_names)},
                n_grids=self.parallel.size)
        writer = self.parallel.bcast(writer)

        def write_own_grids():
            for s, f in zip(self.states, fields):
                writer.write_grid(s.block.gid, s.block.left_index,
                                  {name: values for name, (values, _) in f.items()},
                                  s.u[(slice(None),) + s.block.active])

        try:
            self.parallel.in_turn(write_own_grids)
            if self.parallel.rank == 0:
                writer.commit()
        except BaseException:
            writer.discard()  # never a partial file, under any name
            raise
        self.parallel.comm.Barrier()
        self.parallel.io_time += wallclock.perf_counter() - start
        self.snapshots_written.append(path)
        self.last_snapshot = (path, self.time)
        log.info(f"wrote {path} (t = {self.time:.6e}, cycle {self.cycle})")
        self.output_index += 1

    def _integrate(self, fields):
        """Global volume integrals of per-volume amounts, each field given as (array,
        indices) to integrate over the cells array[i] for i in indices; exact sums,
        so the same bits for any decomposition."""
        block = self.states[0].block
        cartesian = block.geometry == "cartesian"
        volumes = np.broadcast_to(block.cell_volumes(), block.shape)

        def cells(a, indices):
            parts = [a[i] if cartesian else a[i] * volumes[i] for i in indices]
            return parts[0] if len(parts) == 1 else \
                np.concatenate([p.ravel() for p in parts] or [np.zeros(0)])

        sums = self.parallel.exact_sums(cells(a, ix) for a, ix in fields)
        return sums * self.mesh.cell_volume if cartesian else sums

    def totals(self):
        """Volume integrals of the conserved variables over the whole domain."""
        s = self.states[0]
        return self._integrate((s.u[v], [s.block.active]) for v in range(self.system.nvar))

    def _account(self, dt):
        """Add this cycle's source amounts to the budget: global numbers at once,
        per-cell amounts into running per-cell sums that ``_flush_budget`` integrates
        (an exact sum every cycle would cost more than the cooling itself)."""
        block = self.states[0].block
        for source in self.sources:
            for name, amount in source.budget(block, dt).items():
                if np.ndim(amount) == 0:  # a global amount, the same on every rank
                    self.budget[name] += amount
                elif name in self._pending:
                    self._pending[name] += amount
                else:
                    self._pending[name] = amount.copy()

    def _flush_budget(self):
        """Integrate the per-cell running sums and the flux through the domain faces,
        which the first ghost layer of u has summed since the last flush (see
        ``integrator``), into the budget; reset both.  Exact sums of per-cell values
        that do not depend on the decomposition: the same bits on any rank count."""
        s = self.states[0]
        block = s.block
        names = list(self._pending)
        fields = [(self._pending[name], [block.active]) for name in names]
        faces = [first_ghost_layer(block, axis, side)[1:] for axis, side in self.open_faces
                 if not self.parallel.has_neighbour(axis, side)]
        for name, v in self.system.outflow_variables(self.mesh.geometry) \
                if self.open_faces else ():
            names.append(f"outflow_{name}")
            fields.append((s.u[v], faces))
        if fields:
            for name, amount in zip(names, self._integrate(fields)):
                self.budget[name] += amount
        self._pending = {}
        for axis in range(self.mesh.ndim):
            for side in (0, 1):
                s.u[(slice(None),) + first_ghost_layer(block, axis, side)[1:]] = 0.0

    def _write_history(self, dt):
        self._flush_budget()
        columns = self.system.history_totals(self.states[0], self._integrate,
                                             self.mesh.geometry)
        totals = np.append(columns, list(self.budget.values()))
        if not np.isfinite(totals).all():  # e.g. a passive scalar the time step does not see
            raise RunError(self._nonfinite_report())
        if self.history is not None:
            self.history.write(self.time, dt, self.cycle, totals)
        self.last_history_time = self.time
        hdt = self.cfg["output"]["history_dt"]
        if hdt is not None:  # the next multiple of history_dt, not a running sum
            self.next_history = hdt * (math.floor(self.time / hdt * (1.0 + 1e-12)) + 1)

    # -- main loop ---------------------------------------------------------
    def run(self, restarted=False):
        """Run to tlim (or nlim cycles), writing history, snapshots and the log."""
        out = self.cfg["output"]
        self.snapshots_written = []
        self.last_history_time = self.time if restarted else None
        self.history = None  # written by rank 0 only
        dt_next = self._timestep()  # checks the state before any file is opened
        if not restarted and not np.isfinite(self.totals()).all():  # e.g. a passive scalar
            raise RunError(self._nonfinite_report())
        if self.parallel.rank == 0:
            os.makedirs(out["dir"], exist_ok=True)
            columns = self.system.history_columns(self.mesh.geometry) + list(self.budget)
            self.history = history.History(
                os.path.join(out["dir"], f"{out['basename']}.hst"), columns,
                f"hydro {__version__} history: problem {self.cfg['problem']}; code units "
                f"{self.units.describe()}",
                units=["code_time", "code_time", ""]
                + [self.system.history_unit(c) for c in columns],
                restart_time=self.time if restarted else None)
        self.parallel.comm.Barrier()
        interrupt.flag.deferring = True
        try:
            self._loop(restarted, dt_next)
        finally:
            interrupt.flag.deferring = False
            if self.history is not None:
                self.history.close()

    def _stop(self, signum, dt):
        """End the run after a SIGINT or SIGTERM on any rank: the history gets the
        state of this cycle; with ``output.snapshot_on_sigterm`` a SIGTERM (a batch
        system's wall-time limit) also writes a snapshot to continue from."""
        if self.last_history_time != self.time:
            self._write_history(dt)
        if self.history is not None:
            self.history.flush()
        name = interrupt.signal.Signals(signum).name
        if (signum == interrupt.signal.SIGTERM and self.cfg["output"]["snapshot_on_sigterm"]
                and self.last_snapshot[1] != self.time):
            self.write_snapshot()
        raise interrupt.Interrupted(signum, f"stopped by {name} at cycle {self.cycle}, t = "
                                    f"{self.time:.6e}; "
                                    f"{output_dir.restart_hint(*self.last_snapshot)}",
                                    collective=True)

    def _loop(self, restarted, dt_next):
        tm, out = self.cfg["time"], self.cfg["output"]
        tlim, nlim = tm["tlim"], tm["nlim"]
        log.info(f"problem {self.cfg['problem']}: {self.mesh.ndim}D, "
                 f"{' x '.join(map(str, self.mesh.nx[:self.mesh.ndim]))} cells, "
                 f"{self.system.describe()}, t = {self.time:.6e} -> {tlim:.6e}, "
                 f"{self.parallel.size} rank(s) as {' x '.join(map(str, self.parallel.dims[:self.mesh.ndim]))}, "
                 f"{self.parallel.threads} thread(s) each"
                 + (f", restarted from {self.restart}" if restarted else ""))
        if not restarted:
            self._write_history(0.0)
            if out["snapshots"]:
                self.output_step = 1
                self.write_snapshot()
        wall_start = wallclock.perf_counter()
        self.parallel.reset_counters()  # main loop only
        t_first, wall_first, cycles_timed = None, None, 0
        self._last_log = wall_start
        dt = 0.0
        while self.time < tlim and (nlim < 0 or self.cycle < nlim):
            t_out = self._snapshot_time(self.output_step) if out["snapshots"] else tlim
            dt = min(dt_next, tlim - self.time, t_out - self.time)
            for s in self.states:
                self.integrator.advance(s, self.time, dt)
            self._account(dt)
            self.time = t_out if self.time + dt >= t_out else self.time + dt
            self.cycle += 1
            self._primitives()
            dt_next = self._timestep()
            if wall_first is None:
                t_first, wall_first = self.time, wallclock.perf_counter()
            else:
                cycles_timed += 1
            if out["history_dt"] is None or self.time >= self.next_history:
                self._write_history(dt)
            if self.time >= t_out and out["snapshots"]:
                if self.history is not None:
                    self.history.flush()
                self.output_step += 1
                self.write_snapshot()
            if self._log_due(tm["log_every"]):
                self._log_progress(dt, t_first, wall_first, cycles_timed)
            signum = self.parallel.max_int(interrupt.flag.pending)
            if signum:
                self._stop(signum, dt)
        if self.last_history_time != self.time:
            self._write_history(dt)  # the final state, between history times
        if out["snapshots"] and self.last_snapshot[1] != self.time:
            self.write_snapshot()  # stopped by nlim between snapshot times
        wall = wallclock.perf_counter() - wall_start
        if cycles_timed == 0 and wall_first is not None:  # one cycle: time it, compile and all
            cycles_timed, wall_first = 1, wall_start
        timed = (wallclock.perf_counter() - wall_first) if wall_first is not None else 0.0
        self.zone_cycles_per_second = (self.mesh.ncells * cycles_timed / timed
                                       if timed > 0 and cycles_timed > 0 else float("nan"))
        counters = self.system.summary_text(self.parallel.sum_int)
        log.info(f"done: cycle {self.cycle}, t = {self.time:.6e}, wall time {wall:.2f} s, "
                 f"{len(self.snapshots_written)} snapshots written{counters}")
        self._log_rank_times(wall)
        if cycles_timed:
            log.info(f"zone-cycles/s = {self.zone_cycles_per_second:.4e}")
        else:
            log.info("zone-cycles/s: no cycle was run")

    def _log_rank_times(self, wall):
        """Per-rank split of the main loop's wall time: compute, communication, I/O."""
        par = self.parallel
        times = par.gather((wall, par.comm_time, par.io_time, par.messages, par.bytes_sent))
        if times is None or len(times) < 2:
            return
        for rank, (total, comm, io, messages, sent) in enumerate(times):
            log.info(f"rank {rank:4d}: compute {total - comm - io:9.2f} s  "
                     f"communication {comm:8.2f} s  I/O {io:8.2f} s  "
                     f"halo messages {messages} ({sent / 2 ** 20:.1f} MiB)")

    def _log_due(self, every):
        """Whether this cycle logs: every ``every`` cycles, or (unset) once
        ``LOG_INTERVAL`` seconds have passed on rank 0's clock since the last line
        (the decision is shared: the progress line sums counters over the ranks)."""
        if every is not None:
            return self.cycle % every == 0
        now = wallclock.perf_counter()
        due = self.parallel.bcast(now - self._last_log >= LOG_INTERVAL)
        if due:
            self._last_log = now
        return due

    def _log_progress(self, dt, t_first, wall_first, cycles_timed):
        elapsed = wallclock.perf_counter() - wall_first
        rate = self.mesh.ncells * cycles_timed / elapsed if elapsed > 0 else float("nan")
        progress = self.time - t_first
        eta = (elapsed / progress * (self.cfg["time"]["tlim"] - self.time)
               if progress > 0 else float("inf"))
        extra = self.system.progress_text(self.parallel.sum_int)
        log.info(f"cycle={self.cycle:7d} t={self.time:.6e} dt={dt:.4e} "
                 f"zone-cycles/s={rate:.3e} eta={_format_duration(eta)}{extra}")
