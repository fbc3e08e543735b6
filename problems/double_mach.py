"""Double Mach reflection of a Mach 10 shock off a 30-degree wedge (2D, user boundaries).

Woodward & Colella 1984, J. Comput. Phys. 54, 115, sec. IV.c: domain [0, 4] x [0, 1],
the shock meets the reflecting wall y = 0 at x0 = 1/6, inclined 60 degrees to it.
The lower boundary is the post-shock state for x < x0 and a reflecting wall beyond;
the upper boundary follows the exact position of the incident shock.
"""

import numpy as np

from hydro.core.boundary import ghost_slice
from hydro.core.problem import POSITIVE, Parameter

PARAMETERS = [
    # M = 1 is no shock at all, M < 1 an expansion shock (entropy falls): neither exists
    Parameter("mach", 10.0, "", "Mach number of the incident shock", low=1.0, low_open=True),
    Parameter("x0", 1.0 / 6.0, "code_length", "where the shock meets the wall at t = 0"),
    Parameter("rho0", 1.4, "code_mass/code_length**3", "pre-shock density", **POSITIVE),
    Parameter("p0", 1.0, "code_pressure", "pre-shock pressure", **POSITIVE),
]


def _post_shock(p, gamma):
    """Rankine-Hugoniot state behind a shock of Mach number M into (rho0, p0) at rest,
    moving along (cos 30, -sin 30) in the lab frame."""
    m2 = p.mach ** 2
    rho = p.rho0 * (gamma + 1.0) * m2 / ((gamma - 1.0) * m2 + 2.0)
    pres = p.p0 * (2.0 * gamma * m2 - (gamma - 1.0)) / (gamma + 1.0)
    speed = p.mach * np.sqrt(gamma * p.p0 / p.rho0) * (1.0 - p.rho0 / rho)
    return rho, speed * np.cos(np.pi / 6.0), -speed * np.sin(np.pi / 6.0), pres


def _shock_x(y, t, p, gamma):
    """x of the incident shock at height y and time t (it moves at M c0 / sin 60)."""
    shock_speed = p.mach * np.sqrt(gamma * p.p0 / p.rho0) / np.sin(np.pi / 3.0)
    return p.x0 + y / np.tan(np.pi / 3.0) + shock_speed * t


def _set_state(w, region, behind, p, gamma):
    """Post-shock state where ``behind`` is true, pre-shock elsewhere, in w[region]."""
    post = _post_shock(p, gamma)
    pre = (p.rho0, 0.0, 0.0, p.p0)
    for v, (a, b) in zip((0, 1, 2, 4), zip(post, pre)):
        w[(v,) + region] = np.where(behind, a, b)
    w[(3,) + region] = 0.0


def initial_conditions(w, block, mesh, p, gamma):
    x, y, _ = block.coordinates()
    _set_state(w, block.active, x < _shock_x(y, 0.0, p, gamma), p, gamma)


def boundary(w, block, axis, side, t, p, gamma):
    region = ghost_slice(block, axis, side)[1:]
    x, y = np.broadcast_arrays(*block.coordinates(ghosts=True)[:2])
    x, y = x[region], y[region]
    if axis == 0:  # inflow of post-shock gas on the left
        _set_state(w, region, np.ones(x.shape, dtype=bool), p, gamma)
    elif side == 1:  # top: the exact incident shock
        _set_state(w, region, x < _shock_x(y, t, p, gamma), p, gamma)
    else:  # bottom: post-shock before x0, a reflecting wall after it
        ng = block.ng[1]
        mirror = w[:, :, 2 * ng - 1:ng - 1:-1, :].copy()
        mirror[2] *= -1.0
        _set_state(w, region, np.ones(x.shape, dtype=bool), p, gamma)
        w[(slice(None),) + region] = np.where(x >= p.x0, mirror, w[(slice(None),) + region])
