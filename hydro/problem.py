"""Problem modules: how they declare themselves and how the driver finds them.

A problem module in ``problems/`` (installed as ``hydro.problems``) is declarative (in the spirit of Athena++'s
problem generators and FLASH's Config files):

    PARAMETERS = [Parameter("rho_l", 1.0, "code_density", "left density"), ...]
    SCALARS = ("dye",)                       # optional passive scalars
    def initial_conditions(w, block, mesh, p, gamma): ...   # fill primitives
    def boundary(w, block, axis, side, t, p, gamma): ...     # optional: 'user' boundaries
    def source_terms(p): return [...]                        # optional: see hydro.sources
    def potential(x, y, z, p): return phi                    # optional: static gravity
    def injection(p): return [hydro.injection.Region(...)]   # optional: winds
    def output_fields(w, block, p): return {name: (array, unit)}   # optional

``p`` is a namespace holding the resolved parameters.  ``hydro problems NAME``
prints the declarations, so they are the documentation.
"""

import importlib
import importlib.util
import os
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One problem parameter: name, default value, unit (text), one line of doc."""

    name: str
    default: object
    unit: str
    doc: str
    choices: tuple = ()


class ProblemError(Exception):
    pass


def available():
    """Names of the problem modules in the ``hydro.problems`` package."""
    from . import problems
    return sorted(m.name for m in pkgutil.iter_modules(problems.__path__)
                  if not m.name.startswith("_"))


def load(name):
    """Import ``hydro.problems.<name>``, or a problem module from a file if ``name`` ends
    in ``.py`` (a user's own problem kept beside the run file); ProblemError if
    there is none."""
    if name.endswith(".py"):
        if not os.path.isfile(name):
            raise ProblemError(name)
        spec = importlib.util.spec_from_file_location(
            os.path.splitext(os.path.basename(name))[0], name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    if name not in available():
        raise ProblemError(name)
    return importlib.import_module(f"hydro.problems.{name}")


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
        choices = f" (one of: {', '.join(map(str, p.choices))})" if p.choices else ""
        lines.append(f"  {p.name:<{width}}  = {p.default!r:<12}{unit}  {p.doc}{choices}")
    scalars = getattr(module, "SCALARS", ())
    if scalars:
        lines += ["", f"  passive scalars: {', '.join(scalars)}"]
    return "\n".join(lines)
