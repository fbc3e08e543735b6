"""A Gaussian blob with f0 = 0 in a harmonic, uniform or zero potential (the
phase-space solver's verification problems of tests/test_phase_space.py).

Dimensionless: delta f = amplitude exp(-(z - zc)^2/(2 wz^2) - (v - vc)^2/(2 wv^2)).
potential: harmonic (Phi = nu^2 z^2/2) or uniform (Phi = g z; g = 0: free streaming).
"""

import numpy as np

from hydro.core.problem import Parameter
from hydro.vlasov import Equilibrium, Harmonic, Uniform, cell_average

SYSTEM = "vlasov"

PARAMETERS = [
    Parameter("potential", "harmonic", "", "harmonic or uniform",
              choices=("harmonic", "uniform")),
    Parameter("nu", 1.0, "1/code_time", "harmonic frequency"),
    Parameter("g", 0.0, "code_length/code_time**2", "uniform field: Phi = g z"),
    Parameter("zc", 0.5, "code_length", "blob centre z"),
    Parameter("vc", 0.0, "code_length/code_time", "blob centre v"),
    Parameter("wz", 0.1, "code_length", "blob width in z"),
    Parameter("wv", 0.1, "code_length/code_time", "blob width in v"),
    Parameter("amplitude", 1.0, "", "peak of the blob"),
]


def profile(p):
    def f(z, v):
        return p.amplitude * np.exp(-0.5 * ((z - p.zc) / p.wz) ** 2
                                    - 0.5 * ((v - p.vc) / p.wv) ** 2)
    return f


def equilibrium(p):
    pot = Harmonic(p.nu) if p.potential == "harmonic" else Uniform(p.g)
    return Equilibrium(pot, df=None)


def initial_conditions(w, block, mesh, p, eq):
    w[0][block.active] = cell_average(profile(p), block)

