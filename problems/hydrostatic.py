"""Isothermal gas in hydrostatic equilibrium in a softened point mass plus a Dehnen cluster.

rho = rho0 exp(-(Phi - Phi(0)) / cs^2), p = rho cs^2, v = 0 solves grad p = -rho grad Phi
for any potential; the 'user' boundaries hold the ghosts at this profile.  A
well-built gravity source keeps it at rest to truncation error (a test of
hydro.gravity: the error falls at second order).
"""

import numpy as np

from hydro import gravity
from hydro.boundary import ghost_slice
from hydro.problem import Parameter

PARAMETERS = [
    Parameter("G", gravity.G, gravity.G_UNIT, "gravitational constant"),
    Parameter("mass", 1.0, "code_mass", "point mass"),
    Parameter("softening", 0.1, "code_length", "Plummer softening length of the point mass"),
    Parameter("cluster_mass", 0.0, "code_mass", "mass of the Dehnen cluster"),
    Parameter("cluster_radius", 0.5, "code_length", "scale radius of the Dehnen cluster"),
    Parameter("cluster_gamma", 1.0, "", "inner density slope of the Dehnen cluster"),
    Parameter("rho0", 1.0, "code_density", "density at the centre"),
    Parameter("cs", 1.0, "code_velocity", "isothermal sound speed"),
    Parameter("center", [0.0, 0.0, 0.0], "code_length", "position of the mass (x, y, z)"),
]


def _radius(x, y, z, p):
    c = p.center
    return np.sqrt((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2)


def potential(x, y, z, p):
    r = _radius(x, y, z, p)
    phi = gravity.point_mass(r, p.G * p.mass, p.softening)
    if p.cluster_mass > 0.0:
        phi = phi + gravity.dehnen(r, p.G * p.cluster_mass, p.cluster_radius, p.cluster_gamma)
    return phi


def _equilibrium(w, index, x, y, z, p):
    phi0 = potential(*p.center, p)
    rho = p.rho0 * np.exp(-(potential(x, y, z, p) - phi0) / p.cs ** 2)
    w[(0,) + index] = rho
    w[(slice(1, 4),) + index] = 0.0
    w[(4,) + index] = rho * p.cs ** 2


def initial_conditions(w, block, mesh, p, gamma):
    x, y, z = block.coordinates()
    _equilibrium(w, block.active, *np.broadcast_arrays(x, y, z), p)


def boundary(w, block, axis, side, t, p, gamma):
    ghost = ghost_slice(block, axis, side)[1:]
    x, y, z = (np.broadcast_to(c, block.shape)[ghost]
               for c in block.coordinates(ghosts=True))
    _equilibrium(w, ghost, x, y, z, p)
