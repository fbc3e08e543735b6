"""Cluster wind: mass and energy injected uniformly in a sphere (Chevalier & Clegg 1985).

Mdot and Edot spread over a sphere of radius R drive a steady wind, subsonic
inside R, sonic at R, and reaching v_inf = sqrt(2 Edot / Mdot) far out
(Chevalier & Clegg 1985, Nature 317, 44).  Runs in 1D spherical symmetry
(mesh.geometry: spherical) or in 2D/3D; the injected mass carries the
``wind`` scalar.
"""

from hydro.sources.injection import Region
from hydro.core.problem import POSITIVE, Parameter, centre_entries, holds_a_cell

SCALARS = ("wind",)

PARAMETERS = [
    # both rates > 0: the wind's speed sqrt(2 edot / mdot) must be finite and non-zero
    Parameter("mdot", 1.0, "code_mass/code_time", "mass injection rate", **POSITIVE),
    Parameter("edot", 1.0, "code_mass*code_length**2/code_time**3",
              "energy injection rate (thermal)", **POSITIVE),
    Parameter("center", [0.0, 0.0, 0.0], "code_length", "centre of the sphere (x, y, z)",
              check=centre_entries()),
    # a cluster smaller than the spacing of the cell centres has no resolved interior: the
    # subsonic core and the sonic point at R, the point of the problem, are not on the grid
    Parameter("radius", 1.0, "code_length", "radius R of the injection sphere", **POSITIVE,
              check=holds_a_cell(lambda p, mesh: p.center)),
    Parameter("rho_ambient", 1e-4, "code_density", "initial density of the gas at rest",
              **POSITIVE),
    Parameter("p_ambient", 1e-6, "code_pressure", "initial pressure of the gas at rest",
              **POSITIVE),
]


def injection(p):
    return [Region(tuple(p.center), p.radius, p.mdot, p.edot, scalar="wind")]


def initial_conditions(w, block, mesh, p, gamma):
    a = block.active
    w[0][a] = p.rho_ambient
    w[4][a] = p.p_ambient
