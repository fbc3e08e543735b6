"""Problem modules: how they declare themselves and how the driver finds them.

A problem module in ``problems/`` (installed as ``hydro.problems``) is declarative (in the spirit of Athena++'s
problem generators and FLASH's Config files):

    SYSTEM = "euler"                         # optional: the equations (hydro.core.system)
    PARAMETERS = [Parameter("rho_l", 1.0, "code_density", "left density"), ...]
    SCALARS = ("dye",)                       # optional passive scalars
    def initial_conditions(w, block, mesh, p, gamma): ...   # fill primitives
    def boundary(w, block, axis, side, t, p, gamma): ...     # optional: 'user' boundaries
    def source_terms(p): return [...]                        # optional: see hydro.sources
    def potential(x, y, z, p): return phi                    # optional: static gravity
    def injection(p): return [hydro.sources.injection.Region(...)]   # optional: winds
    def output_fields(w, block, p): return {name: (array, unit)}   # optional

``p`` is a namespace holding the resolved parameters.  ``hydro problems NAME``
prints the declarations, so they are the documentation.  The hooks above are
those of the Euler system (the default); another system says in its docstring
which hooks it calls and with what (``hydro.core.system.System``).

A parameter may declare the values physics allows, checked with the rest of
the run file before anything is compiled or written (``hydro check`` too):

    Parameter("rho0", 1.0, "code_density", "ambient density", low=0.0, low_open=True)
    Parameter("radius", 0.1, "code_length", "...", low=0.0, low_open=True,
              check=holds_a_cell(lambda p, mesh: p.center))

``low``/``high`` bound a number (or each entry of a list) the way the run
file's own keys are bounded (``low`` is inclusive unless ``low_open``, ``high``
inclusive; ``**POSITIVE`` is ``low=0.0, low_open=True``).  ``check(value, p,
mesh, gamma)`` is for rules that involve other parameters or the grid: it sees
what ``initial_conditions`` sees (``p`` holds every parameter, all within their
bounds; ``mesh`` is the run's ``hydro.core.mesh.Mesh``) and returns None or one line
saying what is wrong; the first line of its docstring is shown by ``hydro
problems NAME``.  Checks run in the order of PARAMETERS, so a check may take the
parameters declared before it as valid (declare a centre before its radius).
"""

import importlib
import importlib.util
import os
import pkgutil
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Parameter:
    """One problem parameter: name, default value, unit (text), one line of doc, and
    the values allowed: choices, bounds, a check (see the module's docstring)."""

    name: str
    default: object
    unit: str
    doc: str
    choices: tuple = ()
    low: float = None  # lower bound (inclusive unless low_open)
    high: float = None  # upper bound (inclusive)
    low_open: bool = False
    check: object = None  # check(value, p, mesh, gamma) -> None or what is wrong

    def allowed(self):
        """The bounds and the check as text, e.g. '> 0; must hold a cell centre' ('' if
        none), for ``hydro problems NAME``."""
        bounds = []
        if self.low is not None:
            bounds.append(f"> {self.low:g}" if self.low_open else f">= {self.low:g}")
        if self.high is not None:
            bounds.append(f"<= {self.high:g}")
        rules = [" and ".join(bounds)] if bounds else []
        if self.check is not None and self.check.__doc__:
            rules.append(self.check.__doc__.strip().splitlines()[0])
        return "; ".join(rules)


class ProblemError(Exception):
    pass


class BrokenProblem(Exception):
    """A problem module that exists but cannot be imported; the message is one line."""


def available():
    """Names of the problem modules in the ``hydro.problems`` package."""
    from hydro import problems
    return sorted(m.name for m in pkgutil.iter_modules(problems.__path__)
                  if not m.name.startswith("_"))


def load(name):
    """Import ``hydro.problems.<name>``, or a problem module from a file if ``name`` ends
    in ``.py`` (a user's own problem kept beside the run file); ProblemError if
    there is none, BrokenProblem if importing it fails (a syntax error, an import of
    something that is not there)."""
    if not (os.path.isfile(name) if name.endswith(".py") else name in available()):
        raise ProblemError(name)
    try:
        if not name.endswith(".py"):
            return importlib.import_module(f"hydro.problems.{name}")
        spec = importlib.util.spec_from_file_location(
            os.path.splitext(os.path.basename(name))[0], name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except Exception as e:
        if os.environ.get("HYDRO_DEBUG"):
            raise
        raise BrokenProblem(f"problem: cannot import '{name}': {type(e).__name__}: "
                            f"{str(e).splitlines()[0] if str(e) else ''}") from None


def summary(module):
    """First line of a problem module's docstring."""
    return (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""


def describe(name):
    """Text block listing a problem's parameters (for ``hydro problems NAME``)."""
    module = load(name)
    lines = [f"{name}: {summary(module)}", ""]
    params = getattr(module, "PARAMETERS", [])
    width = max((len(p.name) for p in params), default=4)
    for p in params:
        unit = f" [{p.unit}]" if p.unit else ""
        rules = ([f"one of: {', '.join(map(str, p.choices))}"] if p.choices else []) \
            + ([p.allowed()] if p.allowed() else [])
        allowed = f" ({'; '.join(rules)})" if rules else ""
        lines.append(f"  {p.name:<{width}}  = {p.default!r:<12}{unit}  {p.doc}{allowed}")
    scalars = getattr(module, "SCALARS", ())
    if scalars:
        lines += ["", f"  passive scalars: {', '.join(scalars)}"]
    return "\n".join(lines)


# -- bounds and checks shared by problem modules ----------------------------------------

POSITIVE = {"low": 0.0, "low_open": True}  # Parameter(..., **POSITIVE): a value > 0
NON_NEGATIVE = {"low": 0.0}


def centre_entries(xyz=True, empty=False):
    """A check for a point given as a list: one entry per dimension of the grid, or
    (``xyz``) all of x, y, z, the ones past the grid's dimensions then unused, or
    (``empty``) none; in 1D spherical symmetry x is the radius, so a point there
    is the origin."""
    def check(value, p, mesh, gamma):
        counts = sorted({mesh.ndim, 3} if xyz else {mesh.ndim})
        if not (empty and len(value) == 0) and len(value) not in counts:
            need = " or ".join(map(str, counts))
            return (f"needs {need} entries for a {mesh.ndim}D mesh (one per dimension of "
                    f"mesh.nx{', or x, y, z' if xyz else ''}), got {value}")
        if mesh.geometry == "spherical" and value and value[0] != 0.0:
            return f"must be the origin in spherical symmetry (x is the radius), got {value}"
        return None
    check.__doc__ = (("none, or " if empty else "") + ("x, y, z or " if xyz else "")
                     + "one entry per dimension of mesh.nx; the origin in spherical symmetry")
    return check


def nearest_cell_r2(mesh, centre):
    """Squared distance from ``centre`` (one entry per grid dimension at least) to the
    nearest cell centre of the whole grid.  The nearest cell is the nearest along
    each axis on its own, and the sum is taken axis by axis in order, as the problem
    modules sum r^2 over their cells, so ``nearest_cell_r2(mesh, c) < R**2`` is true
    exactly when a cell centre lies within R of c in their arithmetic (rounding is
    monotone, so no other cell's rounded sum is smaller)."""
    return sum(float(np.min((mesh.global_centres(a) - centre[a]) ** 2))
               for a in range(mesh.ndim))


def holds_a_cell(where):
    """A check for a radius around the point ``where(p, mesh)``: at least one cell
    centre must lie strictly inside it (problems that set their gas on the cell
    centres would otherwise set nothing: no energy, no ejecta, no over-pressure).
    Declare the point's parameters before the radius: checks run in order."""
    def check(value, p, mesh, gamma):
        centre = where(p, mesh)
        if centre is None or len(centre) < mesh.ndim:
            return None  # a malformed centre is reported by its own check
        r2 = nearest_cell_r2(mesh, centre)
        if r2 < value ** 2:
            return None
        return (f"{value:g} holds no cell centre around {list(centre[:mesh.ndim])} "
                f"(the nearest is {r2 ** 0.5:g} away, cells "
                f"{' x '.join(f'{d:g}' for d in mesh.dx[:mesh.ndim])}): make it larger "
                f"or the cells smaller")
    check.__doc__ = "must hold a cell centre"
    return check
