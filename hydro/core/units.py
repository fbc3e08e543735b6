"""Physical units at the edges: the run's code-unit system, parsing of values
with units in parameter files, and the constants of the ideal-gas temperature.

Kernels work in code units.  A run declares its units
(``units: {length: pc, mass: Msun, time: kyr}``, default cm, g, s); any
parameter may then be written with a unit (``"5e50 erg"``, ``"1000 km/s"``),
which unyt (yt's unit library) converts to code units, and snapshots declare
the code units so that yt shows physical ones, in the units the run named.

A run without a ``units`` block has code units of 1 cm, 1 g and 1 s (what
values written with units and cooling tables are converted to). Unless it
uses cooling, such a run is taken to be dimensionless (Sod, Sedov with
E = 1, ...: :attr:`UnitSystem.declared` is False), and its snapshots say so:
no temperature in K, and a marker that plots read (see ``hydro.io.gdf``). A run
in cgs writes ``units: {length: cm}``.
"""

import math

# unyt is imported where it is used: it costs a second at start-up, which a
# run in cgs code units (or `hydro check`) need not pay.

BASE_CGS = {"length": "cm", "mass": "g", "time": "s"}
MKS = {"length": 1e-2, "mass": 1e-3, "time": 1.0}  # unyt registries hold SI base values
# hydrogen atom mass (1.007947 u) in g and Boltzmann's constant in erg/K: unyt's
# values, written out so that the temperature field needs no unyt import
M_H = 1.6737352238051868e-24
K_B = 1.3806488e-16
# names of derived code units used in parameter declarations
DERIVED = {
    "code_velocity": "code_length/code_time",
    "code_density": "code_mass/code_length**3",
    "code_pressure": "code_mass/(code_length*code_time**2)",
    "code_energy": "code_mass*code_length**2/code_time**2",
}


class UnitError(ValueError):
    """A value whose unit cannot be read or has the wrong dimension."""


class UnitSystem:
    """Code units from the ``units`` block: each of length, mass, time is a
    quantity such as "pc", "1e3 yr" or a number of cgs units.

    ``cgs`` holds each code unit in cgs; ``declared`` is True when the block
    named at least one unit, i.e. when the run has physical units rather
    than dimensionless code units."""

    def __init__(self, length=None, mass=None, time=None):
        self.cgs = {}
        self._given = {}  # name -> (value, unit string) as the run wrote it
        for name, given in (("length", length), ("mass", mass), ("time", time)):
            unit = BASE_CGS[name]
            q = None if given is None else _quantity(given, unit)
            if q is not None and q.units.dimensions != _quantity(1.0, unit).units.dimensions:
                raise UnitError(f"'{given}' is not a {name} (expected units like {unit})")
            value = 1.0 if q is None else q.to(unit).value
            if not value > 0:
                raise UnitError(f"must be a positive {name}, got {given!r}")
            self.cgs[name] = float(value)
            self._given[name] = (float(value), unit) if q is None else \
                (float(q.value), str(q.units))
        self.declared = any(given is not None for given in (length, mass, time))
        self._registry = None

    @property
    def registry(self):
        """A unyt registry knowing code_length, code_mass, code_time and DERIVED."""
        if self._registry is None:
            from unyt import UnitRegistry, unyt_quantity
            from unyt.dimensions import length, mass, time
            self._registry = UnitRegistry()
            for name, dimension in (("length", length), ("mass", mass), ("time", time)):
                self._registry.add(f"code_{name}", self.cgs[name] * MKS[name], dimension)
            for name, expression in DERIVED.items():
                q = unyt_quantity(1.0, expression, registry=self._registry)
                self._registry.add(name, float(q.in_mks().value), q.units.dimensions)
        return self._registry

    def to_code(self, value, unit):
        """``value`` (a number in code units, or a string with a unit) in ``unit``,
        a code unit expression such as "code_length/code_time" ("" is dimensionless)."""
        if not isinstance(value, str):
            return value
        from unyt import unyt_quantity
        from unyt.exceptions import UnitConversionError
        q = _quantity(value, None)
        try:
            code = float(unyt_quantity(q.value, q.units, registry=self.registry)
                         .to(unit or "dimensionless").value)
            # 15 significant digits: "1 Msun/yr" in Msun/kyr is 1000, not 999.9999999999999
            # (the conversion factors' rounding), in the run and in what `hydro check` prints
            return float(f"{code:.15g}")
        except UnitConversionError:
            want = unyt_quantity(1.0, unit or "dimensionless", registry=self.registry)
            raise UnitError(f"'{value}' is not a {want.units.dimensions} quantity "
                            f"(expected units like {unit or 'none'})") from None

    def describe(self):
        """The code units as text for file headers: "length = 1 pc, ..." or
        "dimensionless"."""
        if not self.declared:
            return "dimensionless"
        return ", ".join(f"{name} = {value:g} {unit}"
                         for name, (value, unit) in self._given.items())

    def velocity_cgs(self):
        """The code velocity in cm/s."""
        return self.cgs["length"] / self.cgs["time"]

    def gdf_units(self):
        """The ``units`` argument of the GDF writer: each code unit as the run wrote it
        ("pc" is (1.0, "pc"), a bare number is that many cgs units), so that yt
        shows lengths, masses and times in the run's own units."""
        return {f"{name}_unit": self._given[name] for name in ("length", "mass", "time")}


def _quantity(text, default_unit):
    """Parse "5e50 erg", "pc" or a bare number (in ``default_unit``)."""
    from unyt import unyt_quantity
    from unyt.exceptions import UnitParseError
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if default_unit is None or not math.isfinite(text):
            raise UnitError(f"expected a value with a unit, got {text!r}")
        return unyt_quantity(float(text), default_unit)
    try:
        return unyt_quantity.from_string(str(text).strip())  # also a bare unit: "pc" is 1 pc
    except (UnitParseError, ValueError, SyntaxError, TypeError):
        raise UnitError(f"cannot read '{text}' as a value with a unit") from None


def temperature(p_over_rho, units, mu):
    """T = mu m_H p / (rho k_B) in K, from p/rho in code units (a numpy array)."""
    return p_over_rho * (units.velocity_cgs() ** 2 * mu * M_H / K_B)
