"""Over-pressured sphere (circle in 2D) in a uniform medium: the classic blast test.

The 3D version in a periodic cube is the problem of ``hydro bench``.
"""

import numpy as np

from hydro.core.problem import POSITIVE, Parameter, holds_a_cell


def domain_centre(p, mesh):
    return [0.5 * (mesh.xmin[a] + mesh.xmax[a]) for a in range(3)]


PARAMETERS = [
    Parameter("rho0", 1.0, "code_mass/code_length**3", "uniform density", **POSITIVE),
    Parameter("p_in", 10.0, "code_pressure", "pressure inside the sphere", **POSITIVE),
    Parameter("p_out", 0.1, "code_pressure", "pressure outside", **POSITIVE),
    Parameter("radius", 0.1, "code_length",
              "radius of the over-pressured sphere (at the domain centre)", **POSITIVE,
              check=holds_a_cell(domain_centre)),
]


def initial_conditions(w, block, mesh, p, gamma):
    x, y, z = block.coordinates()
    c = domain_centre(p, mesh)
    r2 = sum((q - c[a]) ** 2 for a, q in enumerate((x, y, z)) if a < mesh.ndim)
    a = block.active
    w[0][a] = p.rho0
    w[4][a] = np.where(r2 < p.radius ** 2, p.p_in, p.p_out)
