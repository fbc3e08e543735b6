"""Small-amplitude sound wave along x in a periodic box (one wavelength per box).

Background rho0 = 1, p0 = 1/gamma (sound speed 1), so one period is the box
length.  Right-going eigenvector: drho/rho0 = A, dv = A c, dp = rho0 c^2 A.
"""

import numpy as np

from hydro.core.problem import Parameter


def _positive_pressure(value, p, mesh, gamma):
    """|A| < 1/gamma: the pressure 1/gamma + A sin(kx) stays positive"""
    if not abs(value) < 1.0 / gamma:  # and with it the density 1 + A sin(kx), 1/gamma < 1
        return (f"|A| must be < 1/gamma = {1.0 / gamma:g} (got {value}): the pressure "
                f"1/gamma + A sin(kx) would not stay positive")
    return None


PARAMETERS = [
    Parameter("amplitude", 1e-6, "", "relative density amplitude A (a linear wave: |A| << 1)",
              check=_positive_pressure),
]


def initial_conditions(w, block, mesh, p, gamma):
    x, _, _ = block.coordinates()
    phase = np.sin(2.0 * np.pi * (x - mesh.xmin[0]) / (mesh.xmax[0] - mesh.xmin[0]))
    a = block.active
    w[0][a] = 1.0 + p.amplitude * phase
    w[1][a] = p.amplitude * phase
    w[4][a] = 1.0 / gamma + p.amplitude * phase
