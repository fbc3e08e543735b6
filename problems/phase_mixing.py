"""A stellar disk's vertical phase space f(z, v_z) after a velocity kick: phase mixing.

The unperturbed disk is the isothermal slab of Paper I (Banik, Weinberg & van den
Bosch 2022, ApJ 935, 135): f0 = rho0 / (sqrt(2 pi) sigma) exp(-E / sigma^2) in its
self-consistent potential Phi0 = 2 sigma^2 ln cosh(z / z0), z0 = sigma / sqrt(2 pi G
rho0), with an optional non-responsive halo term nu_h^2 z^2 / 2 (Paper II, Banik, van
den Bosch & Weinberg 2023).  At t = 0 every star's v_z changes by dv(z), exactly:
f(z, v) = f0(z, v - dv(z)).  A uniform kick (bending) winds into a one-armed spiral,
a kick proportional to z (breathing) into a two-armed one, as the slab's vertical
frequency falls with energy.

The defaults are the fiducial slab of shared/notes/phase-mixing.md sec. 1.1 (our
choice, not the papers', whose values are not known to us): sigma = 20 km/s and
rho0 = 0.1 Msun/pc^3 give z0 = 384.7 pc and a midplane vertical period of 83.6 Myr.
The mesh is (z, v_z): axis x the height, axis y the vertical velocity.
"""

import math

from hydro.sources import gravity
from hydro.core.problem import POSITIVE, Parameter
from hydro.vlasov import (Equilibrium, Harmonic, Isothermal, Lowered, Slab, Uniform,
                          cell_average)

SYSTEM = "vlasov"

PARAMETERS = [
    Parameter("sigma", "20 km/s", "code_length/code_time",
              "vertical velocity dispersion of the isothermal disk", **POSITIVE),
    Parameter("rho0", "0.1 Msun/pc**3", "code_mass/code_length**3",
              "midplane density (all matter, so that the vertical period is right)",
              **POSITIVE),
    Parameter("G", gravity.G, gravity.G_UNIT, "gravitational constant", **POSITIVE),
    Parameter("potential", "slab", "", "slab: the isothermal slab's own; harmonic: "
              "nu0^2 z^2 / 2, nu0^2 = 4 pi G rho0; uniform: g z (tests)",
              choices=("slab", "harmonic", "uniform")),
    Parameter("g", "2 km/s/Myr", "code_length/code_time**2",
              "acceleration of the uniform potential (potential: uniform)", low=0.0),
    Parameter("halo", 0.0, "", "a halo term nu_h^2 z^2 / 2, given as nu_h^2 / nu0^2 (0.1: "
              "a local dark-matter density of 0.01 Msun/pc^3)", low=0.0),
    Parameter("f0", "isothermal", "", "isothermal, or lowered: exp(-E/sigma^2) - "
              "exp(-e_max), zero above E = e_max sigma^2", choices=("isothermal", "lowered")),
    Parameter("e_max", 11.0, "", "the lowered f0's largest energy, in sigma^2", **POSITIVE),
    Parameter("kick", "bending", "", "none; bending: dv(z) = dv; breathing: "
              "dv(z) = -dv z / z0", choices=("none", "bending", "breathing")),
    Parameter("dv", "1 km/s", "code_length/code_time", "the kick's velocity"),
    Parameter("linear", False, "", "true: the kick's first order only, "
              "delta f = -dv(z) df0/dv (linear theory)"),
]


def scale_height(p):
    """z0 = sigma / sqrt(2 pi G rho0)."""
    return p.sigma / math.sqrt(2.0 * math.pi * p.G * p.rho0)


def equilibrium(p):
    nu0 = math.sqrt(4.0 * math.pi * p.G * p.rho0)
    potential = {"slab": lambda: Slab(p.sigma, p.rho0, p.G),
                 "harmonic": lambda: Harmonic(nu0),
                 "uniform": lambda: Uniform(p.g)}[p.potential]()
    if p.halo > 0.0:
        potential = potential + Harmonic(math.sqrt(p.halo) * nu0)
    df = (Lowered(p.sigma, p.rho0, p.e_max) if p.f0 == "lowered"
          else Isothermal(p.sigma, p.rho0))
    return Equilibrium(potential, df)


def initial_conditions(w, block, mesh, p, eq):
    if p.kick == "none":
        return
    z0 = scale_height(p)

    def kick(z):
        return p.dv if p.kick == "bending" else -p.dv * z / z0

    if p.linear:
        delta = cell_average(lambda z, v: -kick(z) * eq.df0_dv(z, v), block)
    else:
        delta = cell_average(lambda z, v: eq.f0(z, v - kick(z)) - eq.f0(z, v), block)
    w[0][block.active] = delta
