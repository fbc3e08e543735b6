"""Isothermal gas in hydrostatic equilibrium in a softened point mass plus a Dehnen cluster.

rho = rho0 exp(-(Phi - Phi(0)) / cs^2), p = rho cs^2, v = 0 solves grad p = -rho grad Phi
for any potential; the 'user' boundaries hold the ghosts at this profile.  A
well-built gravity source keeps it at rest to truncation error (a test of
hydro.sources.gravity: the error falls at second order).
"""

import numpy as np

from hydro.sources import gravity
from hydro.core.boundary import ghost_slice
from hydro.core.problem import NON_NEGATIVE, POSITIVE, Parameter


def _finite_centre(value, p, mesh, gamma):
    """< 2: a finite potential at the centre"""
    if not value < 2.0:  # Dehnen 1993 eq. 2 has 2 - gamma in a denominator and exponent
        return (f"must be < 2 (got {value}): the cluster's potential at its centre, "
                f"where the density is rho0, is infinite for gamma >= 2")
    return None


def _xyz(value, p, mesh, gamma):
    """3 entries: the mass is a point in space, also for a 1D or 2D mesh"""
    if len(value) != 3:
        return (f"needs 3 entries (x, y, z): the mass is a point in space, also for a "
                f"{mesh.ndim}D mesh (whose cells lie at y, z = 0.5 where inactive), "
                f"got {value}")
    return None


PARAMETERS = [
    Parameter("G", gravity.G, gravity.G_UNIT, "gravitational constant", **POSITIVE),
    Parameter("mass", 1.0, "code_mass", "point mass", **NON_NEGATIVE),
    # rho0 is the density at the mass: -G M / sqrt(r^2 + eps^2) must be finite there
    Parameter("softening", 0.1, "code_length", "Plummer softening length of the point mass",
              **POSITIVE),
    Parameter("cluster_mass", 0.0, "code_mass", "mass of the Dehnen cluster (0: none)",
              **NON_NEGATIVE),
    Parameter("cluster_radius", 0.5, "code_length", "scale radius of the Dehnen cluster",
              **POSITIVE),
    # Dehnen's models have 0 <= gamma < 3; the density must not fall towards the centre
    Parameter("cluster_gamma", 1.0, "", "inner density slope of the Dehnen cluster",
              **NON_NEGATIVE, check=_finite_centre),
    Parameter("rho0", 1.0, "code_density", "density at the centre", **POSITIVE),
    Parameter("cs", 1.0, "code_velocity", "isothermal sound speed", **POSITIVE),
    Parameter("center", [0.0, 0.0, 0.0], "code_length", "position of the mass (x, y, z)",
              check=_xyz),
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
