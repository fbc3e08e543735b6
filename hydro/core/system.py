"""Systems of equations: the seam between the physics and everything else.

Why: the driver, the mesh and its blocks, the halo exchange, snapshots, restart,
the history and the log are the same whatever equations a run solves; only a
*system* knows what its state arrays mean.  A problem module names its system
(``SYSTEM = "euler"``, the default when it names none); ``build`` looks the name
up in ``SYSTEMS`` and asks that class for an instance made from the resolved
configuration (``System.from_config(cfg, module)``).  A new system registers a
name (``register``) and needs no change in the driver.
"""

import importlib
import math

import numpy as np

DEFAULT = "euler"

# name -> the class, or "module:Class" imported the first time it is asked for (the
# systems' kernel modules are imported only by runs that use them)
SYSTEMS = {"euler": "hydro.euler.system:Euler", "vlasov": "hydro.vlasov.system:Vlasov"}


class UnknownSystem(KeyError):
    """A problem module names a system that is not registered."""


def register(name, cls):
    """Make ``SYSTEM = name`` in a problem module build ``cls``."""
    SYSTEMS[name] = cls


def system_name(module):
    """The system a problem module asks for (``SYSTEM``, or the default)."""
    return getattr(module, "SYSTEM", DEFAULT)


def get(name):
    """The class registered as ``name``; UnknownSystem if there is none."""
    try:
        cls = SYSTEMS[name]
    except KeyError:
        raise UnknownSystem(name) from None
    if isinstance(cls, str):
        module_name, _, class_name = cls.partition(":")
        cls = SYSTEMS[name] = getattr(importlib.import_module(module_name), class_name)
    return cls


def build(cfg, module):
    """The system of a run: the problem module's, built from the resolved config."""
    return get(system_name(module)).from_config(cfg, module)


class System:
    """Base class of a system of equations on the mesh; documents the interface.

    A system owns the layout of its state arrays, the conversion from the evolved
    (conserved) variables ``u`` to the derived ones ``w`` that boundaries, sources and
    outputs read, its time-step rule, the update of one cycle (through the integrator
    it builds), its history columns, its output fields and the counters its log lines
    report.  The driver holds, per block, ``u``, a spare copy ``u0`` and ``w``, each
    ``allocate(block)``, in a ``driver.State`` (which also has ``scratch``, a dict for
    per-block arrays the system keeps between cycles), and calls, in this order:

    set-up
      ``axis_units`` (class attribute) the code unit of each mesh axis, which the
      run file's ``mesh.xmin``/``xmax`` are converted to, and ``axis_names``;
      ``config_blocks`` the run-file blocks of its own it reads (those of other
      systems are refused);
      ``check_config(cfg, module)`` (class method) the system's own rules on the
      resolved run file, None or one line (a configuration error, exit 2, before
      anything compiles); ``ghost_cells(cfg, module)`` (class method) its nghost;
      ``from_config(cfg, module)`` (class method) the instance for a run;
      ``nvar``, ``nghost``, ``conserved_names`` (u's variables, the snapshots'
      restart data), ``primitive_names``; ``allocate(block)``;
      ``source_terms(module, p, mesh, units)`` the run's sources (``hydro.sources``);
      ``make_integrator(boundaries, sources, ndim)`` an object with
      ``advance(state, t, dt)`` (one cycle) and ``combines`` (passed to warm-up);
      ``warm_up(ndim, spherical, combines)`` compile the kernels (rank 0 first);
      ``initial_state(module, w, u, block, mesh, p)`` or a restart's u, then
    every cycle
      ``primitives(u, w, block, ndim)`` fills w's active cells, returns the longest
      stable (or accurate) step on the block *before* the factor ``cfl``, NaN if the
      state is not finite; ``limits(state, sources)`` [(step, what sets it)] with it
      first; ``limit_step(step, states, parallel)`` a collective last word on the
      step (e.g. an accuracy limit not scaled by ``cfl``);
    boundaries (``hydro.core.boundary``)
      ``hook_args`` what a problem's hooks get after the parameters (Euler: gamma);
      ``outflow(w, ghost, edge)`` the ghosts of an outflow face (default: copies of
      the edge cells); ``reflect(w, ghost, axis)`` flip the sign of what a mirror
      reverses;
      ``complete_ghosts(w, ghost)`` fill what a user hook does not set;
    outputs
      ``output_fields(w, block, units, physical)`` {name: (array, unit)} on the
      block's active cells (``physical``: the outputs are in physical units);
      ``gdf_gamma`` (or None) for yt's ``ds.gamma``; ``gdf_parameters()`` more
      attributes for the snapshots' ``simulation_parameters``;
      ``history_columns(geometry)``, ``history_totals(state, integrate, geometry)``
      (``integrate``: the driver's exact global volume integral, the same bits on any
      rank count) and ``history_unit(column)``; ``outflow_variables(geometry)`` the
      [(name, v)] of u whose flux through the open faces the budget sums (the
      update scatters it into the first ghost layer of u, see ``hydro.euler.integrator``);
      ``physical_units`` whether outputs are in physical units even when the run
      file names none;
    reports
      ``bad_cells(u, w)`` the active cells to name in a NaN report, and
      ``describe_cell(u, w, k, j, i)`` what to say about one; ``limit_text(state,
      what, cell_text, ndim)`` where a collapsed step comes from (None: a source);
      ``describe()`` the scheme in the first log line; ``progress_text(sum_int)``
      and ``summary_text(sum_int)`` the counters of the progress and final log
      lines (``sum_int`` sums a count over the ranks; collective).

    Euler (``hydro.euler.system``) is a method-of-lines system: its integrator is
    ``hydro.euler.integrator.Integrator`` (Shu-Osher stages of ``primitives`` and
    ``update``, with ``after_update`` for its first-order flux correction).

    The phase-space system (``hydro.vlasov``) is not: u = [delta f] on a 2D (z, v_z)
    mesh, its integrator a Strang-split stepper of sweeps, its step an accuracy
    choice (``cfl`` = 1), its ``outflow`` ghosts delta f = 0, its mesh's second axis
    a velocity (``axis_units``).
    """

    name = None
    nvar = 1
    nghost = 1
    cfl = 1.0  # the factor on every limit of ``limits``
    gdf_gamma = None
    physical_units = False
    hook_args = ()
    step_rule = "the Courant condition"  # what ``primitives``' step is called in reports
    axis_units = ("code_length",) * 3  # the code unit of each mesh axis (mesh.xmin, xmax)
    axis_names = ("x", "y", "z")  # what reports call the mesh axes
    config_blocks = ()  # the run-file blocks of its own that the system reads

    @classmethod
    def check_config(cls, cfg, module):
        """The system's own rules on a resolved configuration: None, or one line
        saying what is wrong (a configuration error)."""
        return None

    @classmethod
    def ghost_cells(cls, cfg, module):
        """The ghost layers a run of this configuration needs (``nghost`` of the
        instance), known before the instance is built: for the process grid's check."""
        return cls.nghost

    @classmethod
    def from_config(cls, cfg, module):
        raise NotImplementedError

    @property
    def conserved_names(self):
        raise NotImplementedError

    @property
    def primitive_names(self):
        return self.conserved_names

    @property
    def field_units(self):
        return dict.fromkeys(self.primitive_names, "")

    def allocate(self, block):
        return np.zeros((self.nvar,) + block.shape)

    # -- set-up
    def source_terms(self, module, p, mesh, units):
        return module.source_terms(p) if hasattr(module, "source_terms") else []

    def make_integrator(self, boundaries, sources, ndim):
        raise NotImplementedError

    def warm_up(self, ndim, spherical=False, combines=True):
        """Compile (or load) the kernels a run uses; nothing to do without kernels."""

    def initial_state(self, module, w, u, block, mesh, p):
        raise NotImplementedError

    # -- time step
    def primitives(self, u, w, block, ndim=0):
        raise NotImplementedError

    def after_update(self, state, ndim, dt, first_order, boundaries):
        """Called by a method-of-lines integrator after each stage's ``update``."""

    def limits(self, state, sources):
        return [(state.crossing_time, self.step_rule)] + [
            (source.timestep(state.w, state.block, *self.hook_args), type(source).__name__)
            for source in sources]

    def limit_step(self, step, states, parallel):
        return step

    # -- boundaries
    def outflow(self, w, ghost, edge):
        """The ghosts of an outflow face: a copy of the edge cells (zero gradient)."""
        w[ghost] = w[edge]

    def reflect(self, w, ghost, axis):
        raise NotImplementedError(f"{self.name}: no reflecting boundaries")

    def complete_ghosts(self, w, ghost):
        pass

    # -- outputs
    def output_fields(self, w, block, units, physical):
        return {name: (values, unit) for name, values, unit in
                zip(self.primitive_names, w[(slice(None),) + block.active],
                    self.field_units.values())}

    def gdf_parameters(self):
        """Attributes the snapshots' ``simulation_parameters`` carry for this system
        (yt copies them into ``ds.parameters``)."""
        return {}

    def history_columns(self, geometry):
        return list(self.conserved_names)

    def history_totals(self, state, integrate, geometry):
        return integrate((state.u[v], [state.block.active]) for v in range(self.nvar))

    def history_unit(self, column):
        return ""

    def outflow_variables(self, geometry):
        return []

    # -- reports
    def bad_cells(self, u, w):
        return ~np.isfinite(u).all(axis=0) | ~np.isfinite(w).all(axis=0)

    def describe_cell(self, u, w, k, j, i):
        names = [n for n, v in zip(self.conserved_names, u[:, k, j, i])
                 if not math.isfinite(v)]
        return "has non-finite " + ", ".join(names)

    def limit_text(self, state, what, cell_text, ndim):
        return None

    def describe(self):
        return self.name

    def progress_text(self, sum_int):
        return ""

    def summary_text(self, sum_int):
        return ""
