"""Sedov-Taylor point explosion: thermal energy deposited in a small sphere (1D/2D/3D).

Sedov 1959, Similarity and Dimensional Methods in Mechanics; the shock radius
follows R = xi0 (E t^2 / rho0)^(1/5) in 3D (xi0 = 1.1517 for gamma = 5/3).
"""

import numpy as np

from hydro.core.problem import POSITIVE, Parameter, centre_entries, holds_a_cell


def _centre(mesh, p):
    if not p.center:
        return [0.5 * (mesh.xmin[a] + mesh.xmax[a]) for a in range(3)]
    return list(p.center) + [0.0] * (3 - mesh.ndim)


PARAMETERS = [
    Parameter("energy", 1.0, "code_energy", "thermal energy deposited (normalised exactly)",
              **POSITIVE),
    Parameter("center", [], "code_length", "centre of the explosion [default: domain centre]",
              check=centre_entries(xyz=False, empty=True)),
    # the energy is shared among the cells whose centres lie within the radius
    Parameter("radius", 0.05, "code_length", "cells with centres within it receive the energy",
              **POSITIVE, check=holds_a_cell(lambda p, mesh: _centre(mesh, p))),
    Parameter("rho0", 1.0, "code_mass/code_length**3", "ambient density", **POSITIVE),
    Parameter("p0", 1e-5, "code_pressure", "ambient pressure", **POSITIVE),
]


def _r2(x, y, z, c, ndim):
    return sum((q - c[a]) ** 2 for a, q in enumerate((x, y, z)) if a < ndim)


def initial_conditions(w, block, mesh, p, gamma):
    c = _centre(mesh, p)
    # count the deposition cells on the whole grid (not only this block), one z-plane at a time
    gx, gy, gz = (mesh.global_centres(a) for a in range(3))
    count = sum(int(np.count_nonzero(_r2(gx[None, :], gy[:, None], z, c, mesh.ndim)
                                     < p.radius ** 2)) for z in gz)
    if mesh.geometry == "spherical":  # shells of 4 pi/3 (r_out^3 - r_in^3) about the origin
        r = gx[gx < p.radius]
        volume = float(np.sum(4.0 * np.pi / 3.0 * ((r + 0.5 * mesh.dx[0]) ** 3
                                                   - np.abs(r - 0.5 * mesh.dx[0]) ** 3)))
    else:
        volume = count * mesh.cell_volume
    p_in = p.p0 + (gamma - 1.0) * p.energy / volume
    x, y, z = block.coordinates()
    a = block.active
    w[0][a] = p.rho0
    w[4][a] = np.where(_r2(x, y, z, c, mesh.ndim) < p.radius ** 2, p_in, p.p0)
