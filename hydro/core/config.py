"""Run parameters: the YAML schema, command-line overrides and validation.

Everything a run reads is declared in ``SCHEMA`` (key, type, default, allowed
values, one line of doc).  ``load`` returns a fully resolved, typed
configuration or raises ``ConfigError`` with one line naming the key, the
problem and what is allowed, before anything is run or written.
"""

import difflib
import math
import os
from dataclasses import dataclass, replace

import yaml

from hydro.core import boundary, problem, reconstruct, units
from hydro.euler import riemann
from hydro.core import system as systems

REQUIRED = object()
HISTORY_ROWS = 1000  # rows of the history over the run unless output.history_dt is set
SYSTEM_BLOCKS = ("hydro", "cooling", "vlasov")  # blocks one system or another reads


class ConfigError(Exception):
    """A bad parameter file or override; the message is one line for the user."""


@dataclass(frozen=True)
class Key:
    kind: str  # int | float | str | ints | floats | boundary | any
    default: object
    doc: str
    choices: tuple = ()
    low: float = None  # lower bound (inclusive unless low_open)
    high: float = None  # upper bound (inclusive)
    low_open: bool = False
    unit: object = None  # code unit a value with units (e.g. "8 kpc") is converted to;
    # for a list, one unit for all entries or a tuple of one per entry


SCHEMA = {
    "problem": Key("str", REQUIRED, "problem module in problems/ (see `hydro problems`), "
                   "or a .py file beside the parameter file"),
    "mesh": {
        "nx": Key("ints", REQUIRED, "cells per dimension: 1, 2 or 3 entries", low=1),
        "xmin": Key("floats", None, "lower domain edge per dimension [default 0]",
                    unit="code_length"),
        "xmax": Key("floats", None, "upper domain edge per dimension [default 1]",
                    unit="code_length"),
        "boundary": Key("boundary", None,
                        "per dimension: one kind or [lower, upper] [default outflow]",
                        choices=boundary.KINDS),
        "ranks": Key("ints", None, "MPI ranks per dimension [default: MPI.Compute_dims]",
                     low=1),
        "geometry": Key("str", "cartesian", "cartesian, or spherical symmetry in 1D "
                        "(x is the radius)", choices=("cartesian", "spherical")),
    },
    "hydro": {
        "gamma": Key("float", 5.0 / 3.0, "ratio of specific heats", low=1.0, low_open=True),
        "riemann": Key("str", "hllc", "Riemann solver", choices=tuple(riemann.CODES)),
        "reconstruction": Key("str", "plm", "reconstruction of primitives",
                              choices=tuple(reconstruct.CODES)),
        "limiter": Key("str", "mc", "slope limiter for plm",
                       choices=tuple(reconstruct.LIMITERS)),
        "integrator": Key("str", "vl2", "time integrator", choices=("vl2", "rk2", "rk3")),
        "cfl": Key("float", 0.3, "Courant number (0.3 is safe for every scheme in 3D)",
                   low=0.0, low_open=True, high=1.0),
        "dfloor": Key("float", 1e-12, "density floor", low=0.0, low_open=True,
                      unit="code_density"),
        "pfloor": Key("float", 1e-15, "pressure floor", low=0.0, low_open=True,
                      unit="code_pressure"),
        "mu": Key("float", 0.6, "mean molecular weight (0.6: fully ionised, solar)",
                  low=0.0, low_open=True),
        "hydrogen_fraction": Key("float", 0.7, "hydrogen mass fraction X", low=0.0,
                                 low_open=True, high=1.0),
        "dual_energy": Key("float", 0.0, "dual energy: where the thermal energy is below "
                           "this fraction of E (e.g. 1e-3), the pressure comes from an "
                           "advected entropy; 0 = off", low=0.0, high=1.0),
        "fofc": Key("bool", True, "first-order flux correction: redo at first order (HLLE) "
                    "the faces of a cell that a stage would leave below a floor"),
    },
    "vlasov": {
        "step": Key("float", 1.0 / 160.0, "phase-space runs: the time step as a fraction of "
                    "the midplane vertical period 2 pi / sqrt(Phi0''(0))", low=0.0,
                    low_open=True, high=1.0),
        "dt": Key("float", None, "phase-space runs: a fixed time step instead (needed "
                  "where the potential has no vertical period)", low=0.0, low_open=True,
                  unit="code_time"),
        "filter": Key("float", 1.0, "phase-space runs: the velocity filter's strength, the "
                      "fraction of the grid-scale (2 dv) mode in v it removes, every "
                      "dz / (2 pi dv) of time (filaments no grid resolves; 0 = off)",
                      low=0.0, high=1.0),
    },
    "time": {
        "tlim": Key("float", 1.0, "end time", low=0.0, low_open=True, unit="code_time"),
        "nlim": Key("int", -1, "maximum number of cycles, -1 for none", low=-1),
        "log_every": Key("int", None, "cycles between log lines [default: a line every "
                         "10 s of wall time]", low=1),
        "dt_min": Key("float", None, "stop the run (exit 1) if the time step falls below "
                      "this [default: only below 1e-10 of t]", low=0.0, low_open=True,
                      unit="code_time"),
    },
    "output": {
        "dir": Key("str", "out", "output directory"),
        "basename": Key("str", None, "snapshot and history file prefix [default: problem]"),
        "dt": Key("float", None, "time between snapshots [default: first and last only]",
                  low=0.0, low_open=True, unit="code_time"),
        "history_dt": Key("float", None, "time between history rows [default: time.tlim / "
                          "1000]", low=0.0, low_open=True, unit="code_time"),
        "snapshots": Key("bool", True, "write snapshots (off for benchmarks)"),
        "overwrite": Key("bool", False, "replace the files of an earlier run with the same "
                         "basename in output.dir (as --overwrite)"),
        "snapshot_on_sigterm": Key("bool", False, "write a snapshot when SIGTERM (a batch "
                                   "system's wall-time limit) stops the run"),
    },
    "cooling": {
        "table": Key("any", None, "'sd93' (solar CIE, Sutherland & Dopita 1993) or [[T (K), "
                     "Lambda (erg cm^3/s)], ...] nodes of a piecewise power law; rate "
                     "n_H^2 Lambda [default: no cooling]"),
        "metallicity": Key("float", 1.0, "Z in solar units, for the 'sd93' table",
                           low=0.0),
        "temperature_floor": Key("float", 1e4, "cooling stops at this temperature (K)",
                                 unit="K",
                                 low=0.0, low_open=True),
        "heating": Key("float", 0.0, "constant heating per volume, e.g. '1e-25 erg/s/cm**3'",
                       low=0.0, unit="code_mass/(code_length*code_time**3)"),
        "dt_fraction": Key("float", None, "limit dt to this fraction of the shortest "
                           "cooling time [default: no limit]", low=0.0, low_open=True),
    },
    "units": {
        "length": Key("any", None, "code length unit, e.g. pc or '3.0857e18 cm' [default cm]"),
        "mass": Key("any", None, "code mass unit, e.g. Msun [default g]"),
        "time": Key("any", None, "code time unit, e.g. kyr [default s]"),
    },
    "problem_params": Key("any", None, "the problem module's parameters (hydro problems NAME)"),
}


def closest(name, options):
    match = difflib.get_close_matches(name, list(options), n=1)
    hint = f"; did you mean '{match[0]}'?" if match else ";"
    return f"{hint} allowed: {', '.join(options)}"


def _number(key, value, kind):
    """Coerce a YAML scalar to int or float (accepting strings such as '1e-3')."""
    if isinstance(value, bool):
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    return x


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _check_range(key, x, spec):
    too_low = spec.low is not None and (x < spec.low or (spec.low_open and x == spec.low))
    too_high = spec.high is not None and x > spec.high
    if too_low or too_high:
        bounds = []
        if spec.low is not None:
            bounds.append(f"> {spec.low:g}" if spec.low_open else f">= {spec.low:g}")
        if spec.high is not None:
            bounds.append(f"<= {spec.high:g}")
        raise ConfigError(f"{key}: must be {' and '.join(bounds)} (got {x})")
    return x


def _coerce(key, value, spec, system=None):
    """Check one value against its Key and return it typed (in code units)."""
    if spec.kind == "float" and isinstance(value, str) and spec.unit is not None \
            and system is not None and not _is_number(value):
        try:
            value = system.to_code(value, spec.unit)
        except units.UnitError as e:
            raise ConfigError(f"{key}: {e}") from None
    if spec.kind in ("int", "float"):
        return _check_range(key, _number(key, value, spec.kind), spec)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ConfigError(f"{key}: unknown value '{value}'{closest(value, spec.choices)}")
        return value
    if spec.kind in ("ints", "floats"):
        if not isinstance(value, list):
            value = [value]
        if not 1 <= len(value) <= 3:
            raise ConfigError(f"{key}: expected a list of 1 to 3 entries, got {value!r}")
        units_ = spec.unit if isinstance(spec.unit, tuple) else (spec.unit,) * len(value)
        return [_coerce(f"{key}[{n}]", v, Key(spec.kind[:-1], None, "", low=spec.low,
                                               unit=units_[n]), system)
                for n, v in enumerate(value)]
    if spec.kind == "boundary":
        if not isinstance(value, list):
            value = [value]
        out = []
        for n, v in enumerate(value):
            pair = v if isinstance(v, list) else [v, v]
            if len(pair) != 2:
                raise ConfigError(f"{key}[{n}]: expected a kind or [lower, upper], got {v!r}")
            kind = Key("str", None, "", choices=spec.choices)
            out.append([_coerce(f"{key}[{n}]", k, kind) for k in pair])
        return out
    return value


def _resolve_block(prefix, given, schema, system=None):
    """Validate a mapping against a schema block and fill the defaults."""
    if not isinstance(given, dict):
        raise ConfigError(f"{prefix or 'parameter file'}: expected a mapping of keys, "
                          f"got {given!r}")
    for name in given:
        if name not in schema:
            where = f"{prefix}.{name}" if prefix else name
            raise ConfigError(f"{where}: unknown key{closest(str(name), schema)}")
    out = {}
    for name, spec in schema.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(spec, dict):
            out[name] = _resolve_block(key, given.get(name) or {}, spec, system)
        elif given.get(name) is None:
            if spec.default is REQUIRED:
                raise ConfigError(f"{key}: required ({spec.doc})")
            out[name] = spec.default
        else:
            out[name] = _coerce(key, given[name], spec, system)
    return out


def _resolve_mesh(mesh):
    """Cross-checks of the mesh block: lengths agree, edges ordered."""
    ndim = len(mesh["nx"])
    for name, fill in (("xmin", 0.0), ("xmax", 1.0)):
        if mesh[name] is None:
            mesh[name] = [fill] * ndim
        if len(mesh[name]) != ndim:
            raise ConfigError(f"mesh.{name}: needs {ndim} entries like mesh.nx, "
                              f"got {mesh[name]}")
    if mesh["boundary"] is None:
        mesh["boundary"] = [["outflow", "outflow"] for _ in range(ndim)]
    if len(mesh["boundary"]) != ndim:
        pairs = ", ".join(f"[{lower}, {upper}]" for lower, upper in mesh["boundary"])
        hint = (f"; for the lower and upper faces of x write [[{mesh['boundary'][0][0]}, "
                f"{mesh['boundary'][1][0]}]]" if ndim == 1 and len(mesh["boundary"]) == 2
                else "")
        raise ConfigError(f"mesh.boundary: needs {ndim} entries like mesh.nx (one kind or "
                          f"[lower, upper] per dimension), got {len(mesh['boundary'])}: "
                          f"{pairs}{hint}")
    if mesh["ranks"] is not None and len(mesh["ranks"]) != ndim:
        raise ConfigError(f"mesh.ranks: needs {ndim} entries like mesh.nx, got {mesh['ranks']}")
    for a in range(ndim):
        if mesh["xmax"][a] <= mesh["xmin"][a]:
            raise ConfigError(f"mesh.xmax[{a}]: must be > mesh.xmin[{a}] = {mesh['xmin'][a]}")
        lower, upper = mesh["boundary"][a]
        if (lower == "periodic") != (upper == "periodic"):
            raise ConfigError(f"mesh.boundary[{a}]: periodic must be on both faces, "
                              f"got [{lower}, {upper}]")
    if mesh["geometry"] == "spherical":
        if ndim != 1:
            raise ConfigError(f"mesh.geometry: spherical symmetry is 1D (x = r), "
                              f"mesh.nx has {ndim} entries")
        if mesh["xmin"][0] < 0.0:
            raise ConfigError(f"mesh.xmin: the inner radius must be >= 0, "
                              f"got {mesh['xmin'][0]}")
        if mesh["boundary"][0][0] == "periodic":
            raise ConfigError("mesh.boundary: a spherical grid cannot be periodic in r")


def _resolve_problem_params(cfg, system):
    """Validate problem_params against the problem module's declared PARAMETERS;
    values (and defaults) written with units are converted to code units.  Then
    every value, given or default, is held to its declared bounds and check (which
    sees the resolved mesh, so the mesh block is resolved first)."""
    try:
        module = problem.load(cfg["problem"])
    except problem.ProblemError:
        raise ConfigError(f"problem: unknown problem '{cfg['problem']}'"
                          f"{closest(cfg['problem'], problem.available())}") from None
    except problem.BrokenProblem as e:
        raise ConfigError(str(e)) from None
    declared = {p.name: p for p in getattr(module, "PARAMETERS", [])}
    given = cfg["problem_params"] or {}
    if not isinstance(given, dict):
        raise ConfigError(f"problem_params: expected a mapping of keys, got {given!r}")
    out = {}
    for name in given:
        if name not in declared:
            raise ConfigError(f"problem_params.{name}: unknown parameter of "
                              f"'{cfg['problem']}'{closest(str(name), declared)}")
    for name, p in declared.items():
        kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(p.default), "any")
        if kind == "str" and p.unit:  # a default with a unit, e.g. "1e51 erg"
            kind = "float"
        if name not in given:
            out[name] = _coerce(f"problem_params.{name}", p.default,
                                Key(kind, None, p.doc, unit=p.unit), system) \
                if kind == "float" else p.default
            continue
        if isinstance(p.default, (list, tuple)):
            kind = "floats"
            if given[name] == [] == list(p.default):  # an empty default (as `check` prints it)
                out[name] = []
                continue
        out[name] = _coerce(f"problem_params.{name}", given[name],
                            Key(kind, p.default, p.doc, choices=p.choices, unit=p.unit), system)
    for name, p in declared.items():  # bounds: the same rule and message as the keys above
        values = out[name] if isinstance(out[name], list) else [out[name]]
        for n, x in enumerate(values):
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                where = f"[{n}]" if isinstance(out[name], list) else ""
                _check_range(f"problem_params.{name}{where}", x, p)
    checked = [p for p in declared.values() if getattr(p, "check", None) is not None]
    if checked:  # cross-parameter and grid rules see what initial_conditions will see
        from types import SimpleNamespace

        from hydro.core.mesh import Mesh
        m = cfg["mesh"]
        mesh = Mesh(m["nx"], m["xmin"], m["xmax"],
                    reconstruct.NGHOST[cfg["hydro"]["reconstruction"]], m["geometry"])
        namespace = SimpleNamespace(**out)
        for p in checked:
            error = p.check(out[p.name], namespace, mesh, cfg["hydro"]["gamma"])
            if error:
                raise ConfigError(f"problem_params.{p.name}: {error}")
    cfg["problem_params"] = out
    return module


def parse_override(text):
    """'block.key=value' -> (['block', 'key'], value parsed as YAML)."""
    if "=" not in text:
        raise ConfigError(f"override '{text}': expected block.key=value")
    path, _, raw = text.partition("=")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ConfigError(f"override '{text}': value is not valid YAML") from None
    return path.strip().split("."), value


def read(path, overrides=()):
    """The raw mapping of a parameter file with command-line overrides applied."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read parameter file ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read parameter file (not UTF-8 text)") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    raw = raw if raw is not None else {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of blocks at the top level")
    problem_file = raw.get("problem")
    if isinstance(problem_file, str) and problem_file.endswith(".py"):
        # a problem module given as a file is found relative to the parameter file
        raw["problem"] = os.path.normpath(os.path.join(os.path.dirname(path), problem_file))
    for text in overrides:
        keys, value = parse_override(text)
        node = raw
        for name in keys[:-1]:
            if not isinstance(node.get(name), dict):
                node[name] = {}
            node = node[name]
        node[keys[-1]] = value
    return raw


def _check_cooling(cooling):
    table = cooling["table"]
    if table is None:
        return
    if isinstance(table, str):
        from hydro.sources.cooling import TABLES, shipped_table
        if table not in TABLES:
            raise ConfigError(f"cooling.table: unknown table '{table}': one of "
                              f"{', '.join(TABLES)}, or [[T, Lambda], ...] rows"
                              f"{closest(table, TABLES)}")
        table = shipped_table(table).tolist()
    rows = table if isinstance(table, list) else []
    ok = len(rows) >= 2 and all(
        isinstance(r, list) and len(r) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in r)
        for r in rows)
    if not ok or any(b[0] <= a[0] for a, b in zip(rows, rows[1:])):
        raise ConfigError("cooling.table: expected two or more [T, Lambda] pairs of positive "
                          "numbers with T increasing")
    if cooling["temperature_floor"] < rows[0][0]:
        raise ConfigError(f"cooling.temperature_floor: must be >= {rows[0][0]:g} K, the "
                          f"bottom of cooling.table (got {cooling['temperature_floor']:g})")


def unit_system(units_block):
    """The UnitSystem of a resolved ``units`` block."""
    try:
        return units.UnitSystem(**units_block)
    except units.UnitError as e:
        raise ConfigError(f"units: {e}") from None


def _checked_unit_system(raw):
    """The run's unit system, from the raw ``units`` block, each unit checked alone."""
    block = _resolve_block("units", raw.get("units") or {}, SCHEMA["units"]) \
        if isinstance(raw, dict) else {}
    for name, value in block.items():
        try:
            units.UnitSystem(**{name: value})
        except units.UnitError as e:
            raise ConfigError(f"units.{name}: {e}") from None
    return unit_system(block)


def _schema(raw):
    """SCHEMA with the mesh edges in the code units of the axes of the problem's
    system (a phase-space mesh has a velocity axis); lengths if the problem cannot
    be loaded yet (its error is reported with the problem's parameters)."""
    try:
        module = problem.load(raw["problem"])
        axis_units = tuple(systems.get(systems.system_name(module)).axis_units)
    except (problem.ProblemError, problem.BrokenProblem, systems.UnknownSystem, KeyError,
            TypeError, AttributeError):
        return SCHEMA
    mesh = dict(SCHEMA["mesh"], xmin=replace(SCHEMA["mesh"]["xmin"], unit=axis_units),
                xmax=replace(SCHEMA["mesh"]["xmax"], unit=axis_units))
    return dict(SCHEMA, mesh=mesh)


def resolve(raw):
    """Validated, typed, defaulted configuration (values in code units) and the
    problem module."""
    system = _checked_unit_system(raw)
    cfg = _resolve_block("", raw, _schema(raw), system)
    _resolve_mesh(cfg["mesh"])
    module = _resolve_problem_params(cfg, system)
    name = systems.system_name(module)
    if name not in systems.SYSTEMS:
        raise ConfigError(f"problem '{cfg['problem']}': SYSTEM = {name!r} is not a known "
                          f"system{closest(str(name), systems.SYSTEMS)}")
    if any("user" in pair for pair in cfg["mesh"]["boundary"]) and \
            not hasattr(module, "boundary"):
        raise ConfigError(f"mesh.boundary: 'user' needs a boundary() hook, which problem "
                          f"'{cfg['problem']}' does not have; allowed: periodic, outflow, "
                          f"reflecting")
    system_class = systems.get(name)
    for block in SYSTEM_BLOCKS:  # another system's keys would be silently ignored
        if block not in system_class.config_blocks:
            if raw.get(block):
                own = ", ".join(system_class.config_blocks) or "none"
                raise ConfigError(f"{block}: not read by the {name} system of problem "
                                  f"'{cfg['problem']}' (its own blocks: {own})")
            del cfg[block]
    error = system_class.check_config(cfg, module)
    if error:
        raise ConfigError(error)
    if "cooling" in cfg:
        _check_cooling(cfg["cooling"])
    if cfg["output"]["history_dt"] is None:  # a long run's history stays a few hundred kB
        cfg["output"]["history_dt"] = cfg["time"]["tlim"] / HISTORY_ROWS
    if cfg["output"]["basename"] is None:
        cfg["output"]["basename"] = os.path.splitext(os.path.basename(cfg["problem"]))[0]
    return cfg, module


def load(path, overrides=()):
    return resolve(read(path, overrides))


def dump(cfg):
    """The resolved configuration as YAML text (stored in every snapshot)."""
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)
