"""Free streaming (Phi = 0) of a density mode, f0 = 0 (tests/test_phase_space.py):
f = delta f = [1 + amplitude cos(k z)] exp(-v^2/(2 sigma^2)) / (sqrt(2 pi) sigma) on a
z-periodic grid (positive: the solver bounds f = f0 + delta f below by 0).  The
density mode then decays as exp(-k^2 sigma^2 t^2/2); the uniform part stays."""

import math

import numpy as np

from hydro.core.problem import Parameter
from hydro.vlasov import Equilibrium, Uniform, cell_average

SYSTEM = "vlasov"

PARAMETERS = [
    Parameter("k", 1.0, "1/code_length", "wavenumber of the mode"),
    Parameter("sigma", 1.0, "code_length/code_time", "velocity dispersion"),
    Parameter("amplitude", 0.5, "", "relative amplitude of the mode (< 1: f > 0)"),
]


def equilibrium(p):
    return Equilibrium(Uniform(0.0), df=None)


def initial_conditions(w, block, mesh, p, eq):
    norm = 1.0 / (math.sqrt(2 * math.pi) * p.sigma)
    w[0][block.active] = cell_average(
        lambda z, v: ((1.0 + p.amplitude * np.cos(p.k * z)) * norm
                      * np.exp(-0.5 * (v / p.sigma) ** 2)), block)
