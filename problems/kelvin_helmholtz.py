"""Kelvin-Helmholtz instability of two smooth shear layers (2D, periodic).

Set-up of McNally, Lyra & Passy 2012 (ApJS 201, 18), eqs. 1-4: densities
rho1, rho2, velocities +-v_shear, layers of width L at y = 1/4 and 3/4, and a
single-mode vy perturbation.  The scalar ``dye`` marks the dense stream.
"""

import numpy as np

from hydro.core.problem import POSITIVE, Parameter

PARAMETERS = [
    Parameter("rho1", 1.0, "code_mass/code_length**3", "density of the outer streams",
              **POSITIVE),
    Parameter("rho2", 2.0, "code_mass/code_length**3", "density of the inner stream",
              **POSITIVE),
    Parameter("v_shear", 0.5, "code_length/code_time", "speed of each stream (opposite signs)"),
    # L divides in exp((y - 1/4) / L): a zero or negative width is no layer
    Parameter("width", 0.025, "code_length", "thickness L of the shear layers", **POSITIVE),
    Parameter("pressure", 2.5, "code_pressure", "uniform pressure", **POSITIVE),
    Parameter("amplitude", 0.01, "code_length/code_time", "amplitude of the vy perturbation"),
]
SCALARS = ("dye",)


def initial_conditions(w, block, mesh, p, gamma):
    x, y, _ = block.coordinates()
    ly = mesh.xmax[1] - mesh.xmin[1]
    y = (y - mesh.xmin[1]) / ly
    lower = 0.5 * np.exp((y - 0.25) / p.width)
    upper = 0.5 * np.exp((0.75 - y) / p.width)
    # McNally et al. eq. 1-2: piecewise exponentials joined smoothly at y = 1/4, 3/4
    ramp = np.where(y < 0.25, lower, np.where(y < 0.5, 1.0 - 0.5 * np.exp((0.25 - y) / p.width),
                    np.where(y < 0.75, 1.0 - 0.5 * np.exp((y - 0.75) / p.width), upper)))
    a = block.active
    w[0][a] = p.rho1 + (p.rho2 - p.rho1) * ramp
    w[1][a] = p.v_shear * (1.0 - 2.0 * ramp)
    lx = mesh.xmax[0] - mesh.xmin[0]
    w[2][a] = p.amplitude * np.sin(4.0 * np.pi * (x - mesh.xmin[0]) / lx)
    w[4][a] = p.pressure
    w[5][a] = ramp
