"""Riemann problem (Sod's shock tube by default) along x, y, z or a grid diagonal.

Sod 1978, J. Comput. Phys. 27, 1; Toro 2009, Table 4.1 lists more such tests.
"""

import numpy as np

from hydro.core.problem import POSITIVE, Parameter


def _on_the_mesh(value, p, mesh, gamma):
    """an axis of the mesh"""
    if value != "diagonal" and "xyz".index(value) >= mesh.ndim:
        return (f"'{value}' needs a {'xyz'.index(value) + 1}D mesh, mesh.nx has {mesh.ndim} "
                f"entries")
    return None


def _between_cells(value, p, mesh, gamma):
    """must lie between the first and last cell centres along the direction"""
    n = direction_vector(p.direction, mesh.ndim)
    first, last = (sum(n[a] * mesh.global_centres(a)[i] for a in range(mesh.ndim))
                   for i in (0, -1))
    if not first < value <= last:  # cells with n.x < x0 are left, the others right
        return (f"must lie between the first and last cell centres along the direction, "
                f"{first:g} < x0 <= {last:g}, or the grid holds one state only (got {value})")
    return None


PARAMETERS = [
    Parameter("rho_l", 1.0, "code_mass/code_length**3", "density left of x0", **POSITIVE),
    Parameter("u_l", 0.0, "code_length/code_time", "velocity along the direction, left"),
    Parameter("p_l", 1.0, "code_pressure", "pressure left of x0", **POSITIVE),
    Parameter("rho_r", 0.125, "code_mass/code_length**3", "density right of x0", **POSITIVE),
    Parameter("u_r", 0.0, "code_length/code_time", "velocity along the direction, right"),
    Parameter("p_r", 0.1, "code_pressure", "pressure right of x0", **POSITIVE),
    Parameter("direction", "x", "", "direction of the problem", ("x", "y", "z", "diagonal"),
              check=_on_the_mesh),
    Parameter("x0", 0.5, "code_length", "position of the discontinuity along the direction",
              check=_between_cells),
]


def direction_vector(direction, ndim):
    """Unit vector (x, y, z) along which the problem varies."""
    if direction == "diagonal":
        n = np.array([1.0 if a < ndim else 0.0 for a in range(3)])
        return n / np.sqrt(ndim)
    axis = "xyz".index(direction)
    if axis >= ndim:
        raise ValueError(f"direction '{direction}' needs a {axis + 1}D mesh")
    return np.eye(3)[axis]


def initial_conditions(w, block, mesh, p, gamma):
    n = direction_vector(p.direction, mesh.ndim)
    x, y, z = block.coordinates()
    left = n[0] * x + n[1] * y + n[2] * z < p.x0
    a = block.active
    w[0][a] = np.where(left, p.rho_l, p.rho_r)
    for axis in range(3):
        w[1 + axis][a] = np.where(left, p.u_l, p.u_r) * n[axis]
    w[4][a] = np.where(left, p.p_l, p.p_r)
