"""Blast in a softened point-mass potential, with two tracers: the physics benchmark.

The blast of ``problems/blast.py`` with a ``inside`` tracer (1 in the sphere)
and an ``outside`` tracer (1 elsewhere), and a Plummer-softened point mass at
the centre; with ``cooling.table: sd93`` it is the configuration of
``hydro bench --compare`` with scalars, gravity and cooling switched on.
"""

import numpy as np

from hydro.sources import gravity
from hydro.core.problem import NON_NEGATIVE, POSITIVE, Parameter
from hydro.problems import blast

SCALARS = ("inside", "outside")

PARAMETERS = blast.PARAMETERS + [
    Parameter("G", 1.0, gravity.G_UNIT, "gravitational constant", **POSITIVE),
    Parameter("mass", 0.01, "code_mass", "point mass at (0.5, 0.5, 0.5)", **NON_NEGATIVE),
    # unsoftened, -G M / r is infinite on a cell centre at the mass (odd nx)
    Parameter("softening", 0.05, "code_length", "Plummer softening length", **POSITIVE),
]


def potential(x, y, z, p):
    return gravity.point_mass(np.sqrt((x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2),
                              p.G * p.mass, p.softening)


def initial_conditions(w, block, mesh, p, gamma):
    blast.initial_conditions(w, block, mesh, p, gamma)
    a = block.active
    w[5][a] = np.where(w[4][a] == p.p_in, 1.0, 0.0)
    w[6][a] = 1.0 - w[5][a]
