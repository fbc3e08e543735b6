"""The Chevalier & Clegg (1985, Nature 317, 44) steady cluster wind, for the tests.

Mass and energy injected uniformly at rates Mdot, Edot within R: the Mach number
M(r) solves (their eqs. 4 and 5, with u = M c)

    r < R:  [(3g + 1/M^2) / (1 + 3g)]^(-(3g+1)/(5g+1))
            [(g - 1 + 2/M^2) / (1 + g)]^((g+1)/(2(5g+1))) = r / R,        M < 1,
    r > R:  M^(2/(g-1)) [(g - 1 + 2/M^2) / (1 + g)]^((g+1)/(2(g-1))) = (r/R)^2,  M > 1;

Bernoulli's u^2/2 + c^2/(g-1) = Edot/Mdot gives c, and mass conservation
rho u 4 pi r^2 = Mdot min(r/R, 1)^3 gives rho; p = rho c^2 / g.
"""

import numpy as np
from scipy.optimize import brentq


def mach(r, radius, gamma):
    g = gamma
    x = r / radius
    if x < 1.0:
        def f(m):
            return (((3 * g + m ** -2) / (1 + 3 * g)) ** (-(3 * g + 1) / (5 * g + 1))
                    * ((g - 1 + 2 * m ** -2) / (1 + g)) ** ((g + 1) / (2 * (5 * g + 1))) - x)
        return brentq(f, 1e-12, 1.0) if x > 0 else 0.0

    def f(m):
        return (2 / (g - 1) * np.log(m) + (g + 1) / (2 * (g - 1))
                * np.log((g - 1 + 2 * m ** -2) / (1 + g)) - 2 * np.log(x))
    return brentq(f, 1.0, 1e6) if x > 1 else 1.0


def profiles(r, mdot, edot, radius, gamma):
    """Density, velocity, pressure and Mach number at the radii r."""
    m = np.array([mach(ri, radius, gamma) for ri in np.atleast_1d(r)])
    c2 = (edot / mdot) / (0.5 * m ** 2 + 1.0 / (gamma - 1.0))
    u = m * np.sqrt(c2)
    rho = mdot * np.minimum(r / radius, 1.0) ** 3 / (4 * np.pi * r ** 2 * u)
    return rho, u, rho * c2 / gamma, m
