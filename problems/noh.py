"""Noh (1987) implosion: cold gas streaming at speed v0 towards the origin.

A shock of speed v0 (gamma - 1) / 2 moves out from the origin; behind it the gas
is at rest with density rho0 ((gamma + 1) / (gamma - 1))^d in d dimensions;
ahead of it rho = rho0 (1 + v0 t / r)^(d - 1) (Noh 1987, J. Comput. Phys. 72,
78).  Meant for an octant (reflecting faces through the origin) with 'user'
faces outside, which hold the exact inflowing state.
"""

import numpy as np

from hydro.core.boundary import ghost_slice
from hydro.core.problem import POSITIVE, Parameter

PARAMETERS = [
    Parameter("rho0", 1.0, "code_density", "initial density", **POSITIVE),
    # v0 < 0 is an outflow, whose exact density rho0 (1 + v0 t / r)^(d - 1) at the outer
    # faces turns negative; v0 = 0 is gas at rest, no implosion
    Parameter("v0", 1.0, "code_velocity", "initial inflow speed", **POSITIVE),
    Parameter("p0", 1e-6, "code_pressure", "initial pressure (cold: a near-vacuum test)",
              **POSITIVE),
]


def _inflow(w, index, coords, ndim, t, p):
    """The exact pre-shock state at time t on the cells ``index`` with centres ``coords``."""
    r = np.sqrt(sum(c ** 2 for c in coords[:ndim]))
    w[(0,) + index] = p.rho0 * (1.0 + p.v0 * t / r) ** (ndim - 1)
    for a in range(3):
        w[(1 + a,) + index] = -p.v0 * coords[a] / r if a < ndim else 0.0
    w[(4,) + index] = p.p0


def _centres(block, index, ghosts):
    return [np.broadcast_to(c, block.shape)[index] for c in block.coordinates(ghosts=True)]


def initial_conditions(w, block, mesh, p, gamma):
    _inflow(w, block.active, _centres(block, block.active, True), mesh.ndim, 0.0, p)


def boundary(w, block, axis, side, t, p, gamma):
    ghost = ghost_slice(block, axis, side)[1:]
    ndim = sum(1 for g in block.ng if g > 0)
    _inflow(w, ghost, _centres(block, ghost, True), ndim, t, p)
