"""The phase-space system: the collisionless Boltzmann equation for the vertical
distribution function f(z, v_z, t) of a stellar disk,

    df/dt + d(v f)/dz + d(a f)/dv = 0,    a(z) = -dPhi0/dz,

on a 2D mesh whose axis x is the height z and axis y the vertical velocity v_z
(units: the run's code length and code length per code time).

What is evolved is delta f = f - f0, with f0(E) the problem's analytic
equilibrium (``hydro.vlasov.equilibrium``): the equation for delta f is the same
advection, so an unperturbed disk stays steady to the last bit, and the
boundary condition "f = f0 beyond the grid" is delta f = 0 in the ghost cells
(the boundary kind ``outflow``; ``periodic`` is allowed too).

Scheme: Strang splitting (Strang 1968, SIAM J. Numer. Anal. 5, 506) into a half
z-drift, a v-kick and a half z-drift, each sweep an exact-in-time, conservative
flux-form semi-Lagrangian advection (``hydro.vlasov.sweep``): second order in
time, the spatial order of PPM, mass conserved to round-off.  The step is an
accuracy choice, ``vlasov.step`` of the midplane vertical period 2 pi /
sqrt(Phi0''(0)) (default 1/160), or ``vlasov.dt``; no Courant limit applies.

Problem-module hooks (see ``hydro.core.system`` for the driver's side)::

    SYSTEM = "vlasov"
    def equilibrium(p): return Equilibrium(potential, df)     # the unperturbed disk
    def initial_conditions(w, block, mesh, p, equilibrium):   # delta f on active cells
    def boundary(w, block, axis, side, t, p, equilibrium):    # optional 'user' ghosts
"""

import math
from types import SimpleNamespace

import numpy as np

from hydro.core import threads
from hydro.core.mesh import Mesh
from hydro.core.system import System
from hydro.vlasov.equilibrium import cell_average
from hydro.vlasov import positivity
from hydro.vlasov.sweep import (FILTER_REACH, STENCIL, advect_columns, advect_rows,
                                f0_parabolas, filter_columns, filter_interval)

F_UNIT = "code_mass*code_time/code_length**4"  # f: density per unit velocity
VELOCITY = "code_length/code_time"
BOUNDARY_KINDS = ("periodic", "outflow", "user")


class Vlasov(System):
    name = "vlasov"
    nvar = 1
    cfl = 1.0
    conserved_names = ("delta_f",)
    axis_units = ("code_length", VELOCITY, "code_length")
    axis_names = ("z", "v_z", "")
    config_blocks = ("vlasov",)
    step_rule = "the accuracy step"

    def __init__(self, equilibrium, step, nghost, filter_strength, filter_interval):
        self.equilibrium = equilibrium
        self.step = step
        self.nghost = nghost
        self.filter = filter_strength
        self.filter_interval = filter_interval
        self._f0 = {}

    # -- set-up
    @staticmethod
    def _step(cfg, equilibrium):
        """The time step (code time): ``vlasov.dt`` or ``vlasov.step`` of the period."""
        v = cfg["vlasov"]
        period = equilibrium.potential.period
        return v["dt"] if v["dt"] is not None else v["step"] * period

    @staticmethod
    def _largest_shifts(cfg, equilibrium, step):
        """The largest shifts (in cells) of a half z-drift and of a v-kick on the mesh."""
        m = cfg["mesh"]
        mesh = Mesh(m["nx"], m["xmin"], m["xmax"], 0)
        z, v = mesh.global_centres(0), mesh.global_centres(1)
        return (float(np.max(np.abs(v))) * 0.5 * step / mesh.dx[0],
                float(np.max(np.abs(equilibrium.potential.accel(z)))) * step / mesh.dx[1])

    @classmethod
    def check_config(cls, cfg, module):
        """The rules of a phase-space run beyond the schema: a 2D (z, v_z) mesh, the
        boundary kinds, a step the potential defines."""
        m = cfg["mesh"]
        if len(m["nx"]) != 2 or m["geometry"] != "cartesian":
            return (f"mesh.nx: a phase-space run is 2D (z, v_z) and Cartesian, "
                    f"got {len(m['nx'])}D {m['geometry']}")
        for axis, pair in enumerate(m["boundary"]):
            for kind in pair:
                if kind not in BOUNDARY_KINDS:
                    return (f"mesh.boundary[{axis}]: '{kind}' is not a phase-space "
                            f"boundary; allowed: {', '.join(BOUNDARY_KINDS)} (outflow: "
                            f"f = f0 beyond the grid)")
        if m["boundary"][1][0] == "periodic":
            return "mesh.boundary[1]: the v_z axis cannot be periodic"
        equilibrium = cls._equilibrium(cfg, module)
        if cfg["vlasov"]["dt"] is None and equilibrium.potential.period is None:
            return ("vlasov.dt: required, since this potential has no vertical period "
                    "for vlasov.step to be a fraction of")
        ng = cls.ghost_cells(cfg, module)
        for axis in range(2):
            if m["nx"][axis] < ng:
                return (f"mesh.nx[{axis}]: must be >= {ng}, the ghost cells of the "
                        f"largest shift in one step (got {m['nx'][axis]})")
        return None

    @staticmethod
    def _equilibrium(cfg, module):
        return module.equilibrium(SimpleNamespace(**cfg["problem_params"]))

    @classmethod
    def ghost_cells(cls, cfg, module):
        """The largest whole-cell shift of a step plus the reconstruction's stencil, and
        along v the filter's reach too; at least what the positivity fix reads."""
        equilibrium = cls._equilibrium(cfg, module)
        drift, kick = cls._largest_shifts(cfg, equilibrium, cls._step(cfg, equilibrium))
        reach = FILTER_REACH if cfg["vlasov"]["filter"] > 0.0 else 0
        return max(int(drift) + STENCIL, int(kick) + reach + STENCIL, positivity.REACH)

    @classmethod
    def from_config(cls, cfg, module):
        equilibrium = cls._equilibrium(cfg, module)
        m = cfg["mesh"]
        dz, dv = ((m["xmax"][a] - m["xmin"][a]) / m["nx"][a] for a in (0, 1))
        return cls(equilibrium, cls._step(cfg, equilibrium), cls.ghost_cells(cfg, module),
                   cfg["vlasov"]["filter"], filter_interval(dz, dv))

    @property
    def hook_args(self):
        return (self.equilibrium,)

    def source_terms(self, module, p, mesh, units):
        return []

    def make_integrator(self, boundaries, sources, ndim):
        return Strang(self, boundaries)

    def warm_up(self, ndim, spherical=False, combines=True):
        """Compile the two sweeps, along rows (z) and along columns (v), and the
        bound's and the positivity fix's kernels (f0's cell averages are read only)."""
        q = np.zeros((8, 8))
        f0 = q.copy()
        f0.flags.writeable = False
        speeds = np.zeros(8)
        bound = f0_parabolas(f0, speeds) + (f0,)
        advect_rows(q, bound, q.copy(), speeds, 0.0, 0, 0, 3, 0, 1)
        advect_columns(q, bound, q.copy(), speeds, 0.0, 0, 0, 3, 0, 1)
        filter_columns(q, f0, q.copy(), 1.0, (0, 8), 0, 0, 0, 1)
        active = (3, 5, 3, 5)
        positivity.fill_negatives(q, f0, q.copy(), np.zeros((2, 2)), (0, 8, 0, 8), active)
        positivity.take_from_positive(q.copy(), f0, active, 0.0)
        positivity.count_negative(q, f0, active)
        positivity.positive_part(q, f0, active)

    def f0_cells(self, block, ghosts=False):
        """The cell averages of f0 on a block (shape (1, n_v, n_z) of its active cells,
        or of the whole block with ``ghosts``), computed once (read only)."""
        key = (block.gid, ghosts)
        if key not in self._f0:
            self._f0[key] = cell_average(self.equilibrium.f0, block, ghosts=ghosts)
            self._f0[key].flags.writeable = False
        return self._f0[key]

    def initial_state(self, module, w, u, block, mesh, p):
        """The problem's delta f (from zero)."""
        w[:] = 0.0
        module.initial_conditions(w, block, mesh, p, self.equilibrium)
        np.copyto(u, w)

    # -- time step
    def primitives(self, u, w, block, ndim=0):
        """w = delta f (the driver fills its ghosts); the step, NaN if the state is
        not finite (the sum of a NaN or inf is not finite, and costs a tenth of a
        sweep)."""
        np.copyto(w, u)
        return self.step if math.isfinite(np.sum(u)) else math.nan

    # -- boundaries
    def outflow(self, w, ghost, edge):
        """Stars leave freely and f0's enter: delta f = 0 beyond the grid."""
        w[ghost] = 0.0

    # -- outputs
    def output_fields(self, w, block, units, physical):
        """f, delta f, and the orbital energy E = v^2/2 + Phi0(z) at the cell centres
        (what the contrast f / <f>_theta - 1 averages over)."""
        delta = w[0][block.active]
        z, v, _ = block.coordinates()
        energy = np.broadcast_to(self.equilibrium.energy(z, v), delta.shape).copy()
        return {"f": (self.f0_cells(block) + delta, F_UNIT),
                "delta_f": (delta.copy(), F_UNIT),
                "energy": (energy, f"({VELOCITY})**2")}

    def gdf_parameters(self):
        return {"system": self.name, "axis_names": ",".join(self.axis_names[:2]),
                "axis_units": f"code_length,{VELOCITY}"}

    def history_columns(self, geometry):
        return ["mass", "mean_z", "mean_vz", "mean_zvz"]

    def history_totals(self, state, integrate, geometry):
        """The mass of f per unit area and its mean z, v_z and z v_z: exact sums of f,
        z f, v f and z v f over the grid."""
        block = state.block
        moments = state.scratch.get("moments")  # kept: new arrays cost 5x the arithmetic
        if moments is None:
            moments = state.scratch["moments"] = np.empty((4, 1) + block.nx[1::-1])
        z, v, _ = block.coordinates()
        np.add(self.f0_cells(block), state.u[(0,) + block.active], out=moments[0])
        np.multiply(moments[0], z, out=moments[1])
        np.multiply(moments[0], v, out=moments[2])
        np.multiply(moments[1], v, out=moments[3])
        mass, zf, vf, zvf = integrate((a, [Ellipsis]) for a in moments)
        return [mass, zf / mass, vf / mass, zvf / mass]

    def history_unit(self, column):
        return {"mass": "code_mass/code_length**2", "mean_z": "code_length",
                "mean_vz": VELOCITY, "mean_zvz": f"code_length*{VELOCITY}"}.get(column, "")

    def limit_text(self, state, what, cell_text, ndim):
        """The step is the run file's choice, not a cell's."""
        return "set by vlasov.step (or vlasov.dt)"

    def describe(self):
        return (f"phase space (z, v_z): Strang-split flux-form semi-Lagrangian PPM sweeps, "
                f"step {self.step:.6g}")


class Strang:
    """One cycle: half z-drift, v-kick (after the velocity filter, in a step that
    crosses a multiple of its interval), half z-drift (Strang 1968), each sweep
    followed by the ghosts of its result (halo exchange and boundaries); then any
    cell left with f < 0 is made up from its neighbours
    (``hydro.vlasov.positivity``)."""

    combines = False

    def __init__(self, system, boundaries):
        self.system = system
        self.boundaries = boundaries
        self._cache = {}

    def _block_data(self, block):
        """Per block: the speeds in cells per unit time along each line (rows: v / dz,
        columns: a(z) / dv), the bounds of the two sweeps (``f0_parabolas`` along the
        rows and along the columns, and f0's cell averages), ghosts included, and the
        (rows, columns) ranges of the cells that exist (ghosts from a neighbouring
        block included) and of the active ones."""
        if block.gid not in self._cache:
            z, v, _ = block.coordinates(ghosts=True)
            accel = self.system.equilibrium.potential.accel(z.ravel())
            f0 = self.system.f0_cells(block, ghosts=True)[0]
            row_speeds, column_speeds = v.ravel() / block.dx[0], accel / block.dx[1]
            along_rows = f0_parabolas(f0, row_speeds) + (f0,)
            along_columns = tuple(np.ascontiguousarray(a.T) for a in
                                  f0_parabolas(f0.T.copy(), column_speeds)) + (f0,)
            ranges = []
            for axis in (1, 0):  # rows are v, columns z
                ng, n = block.ng[axis], block.nx[axis]
                ranges += [0 if self.boundaries.parallel.has_neighbour(axis, 0) else ng,
                           n + 2 * ng if self.boundaries.parallel.has_neighbour(axis, 1)
                           else ng + n]
            active = (block.ng[1], block.ng[1] + block.nx[1],
                      block.ng[0], block.ng[0] + block.nx[0])
            self._cache[block.gid] = (row_speeds, column_speeds, along_rows, along_columns,
                                      tuple(ranges), active)
        return self._cache[block.gid]

    def _sweep(self, state, axis, dt, filtered=False):
        """Advect delta f (u) along ``axis`` (0: z, 1: v, after the velocity filter if
        ``filtered``) for dt, from w (u with its ghosts)."""
        block, u, w = state.block, state.u, state.w
        row_speeds, column_speeds, along_rows, along_columns, real, _ = \
            self._block_data(block)
        ng, nx = block.ng, block.nx
        if axis == 0:  # each row (fixed v) moves along z
            threads.run(advect_rows, w[0, 0], along_rows, u[0, 0], row_speeds, dt,
                        ng[1], ng[1] + nx[1], ng[0])
            return
        source = w[0, 0]
        if filtered:
            source = state.scratch.get("filtered")
            if source is None:
                source = state.scratch["filtered"] = np.zeros_like(w[0, 0])
            f0 = self.system.f0_cells(block, ghosts=True)[0]
            threads.run(filter_columns, w[0, 0], f0, source, self.system.filter, real[:2],
                        ng[0], ng[0] + nx[0])
        # each column (fixed z) moves along v
        threads.run(advect_columns, source, along_columns, u[0, 0], column_speeds, dt,
                    ng[0], ng[0] + nx[0], ng[1])

    def _ghosts(self, state, t):
        """w = u with its ghosts (halo exchange and boundaries) at time t."""
        active = (slice(None),) + state.block.active
        state.w[active] = state.u[active]
        self.boundaries.fill(state.w, state.block, t)

    def advance(self, state, t, dt):
        """One cycle from t to t + dt; on entry w holds delta f with its ghosts."""
        self._sweep(state, 0, 0.5 * dt)
        self._ghosts(state, t + 0.5 * dt)
        interval = self.system.filter_interval
        filtered = (self.system.filter > 0.0  # a step that crosses a multiple of interval
                    and math.floor((t + dt) / interval) > math.floor(t / interval))
        self._sweep(state, 1, dt, filtered)
        self._ghosts(state, t + 0.5 * dt)
        self._sweep(state, 0, 0.5 * dt)
        self._keep_positive(state, t + dt)

    def _keep_positive(self, state, t):
        """f >= 0 (``hydro.vlasov.positivity``): a deficit is made up from the cells
        around it (their values at t, ghosts included), and what they cannot give is
        taken from every cell of positive f in the grid, in proportion (in the
        tests' strongest kick, at most 3.4e-10 of the mass in a step).  One small
        collective a step, to agree whether any cell is negative."""
        *_, real, active = self._block_data(state.block)
        f0 = self.system.f0_cells(state.block, ghosts=True)[0]
        u = state.u[0, 0]
        parallel = self.boundaries.parallel
        if parallel.max_int(positivity.count_negative(u, f0, active)) == 0:
            return
        self._ghosts(state, t)
        added = state.scratch.get("added")
        if added is None:
            added = state.scratch["added"] = np.zeros((active[1] - active[0],
                                                       active[3] - active[2]))
        clamped = positivity.fill_negatives(state.w[0, 0], f0, u, added, real, active)
        if parallel.max_int(clamped) == 0:
            return
        total, positive = parallel.exact_sums([added, positivity.positive_part(u, f0, active)])
        added[:] = 0.0
        positivity.take_from_positive(u, f0, active, total / positive)
