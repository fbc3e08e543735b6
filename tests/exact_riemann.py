"""An independent exact Riemann solver for the 1D Euler equations of an ideal gas,
the reference of the shock-tube tests.

Written from Toro 2009 (*Riemann Solvers and Numerical Methods for Fluid
Dynamics*, 3rd ed.), chapter 4, in plain Python with no code of ``hydro``, so
that a mistake in ``hydro.euler.riemann`` cannot hide in the reference:

- the pressure function f(p) = f_L(p) + f_R(p) + (u_R - u_L), eqs. 4.5-4.7,
  and its derivative, eq. 4.37;
- Newton's iteration for its root p*, eq. 4.44, from the two-rarefaction
  guess, eq. 4.46 (``hydro`` starts from the PVRS guess instead), and u*,
  eq. 4.9;
- sampling of the solution at x / t, sec. 4.5 (eqs. 4.50-4.63);
- a vacuum generated between two rarefactions, sec. 4.6.3: the fans end where
  the density vanishes, at u_L + 2 c_L / (gamma - 1) and u_R - 2 c_R / (gamma - 1)
  with vacuum (rho = p = 0) between them.
"""

import math

import numpy as np


class Side:
    """The constant state on one side of the initial discontinuity and the
    constants of its branch of the pressure function (Toro eqs. 4.6-4.8)."""

    def __init__(self, rho, u, p, gamma):
        self.rho, self.u, self.p, self.gamma = rho, u, p, gamma
        self.c = math.sqrt(gamma * p / rho)
        self.a = 2.0 / ((gamma + 1.0) * rho)
        self.b = (gamma - 1.0) / (gamma + 1.0) * p

    def f(self, p):
        """f_K(p), Toro eqs. 4.6-4.7: the velocity change across the wave, on the
        shock branch for p > p_K, on the rarefaction branch otherwise."""
        g = self.gamma
        if p > self.p:
            return (p - self.p) * math.sqrt(self.a / (p + self.b))
        return 2.0 * self.c / (g - 1.0) * ((p / self.p) ** ((g - 1.0) / (2.0 * g)) - 1.0)

    def df(self, p):
        """f_K'(p), Toro eq. 4.37."""
        g = self.gamma
        if p > self.p:
            q = math.sqrt(self.a / (self.b + p))
            return q * (1.0 - (p - self.p) / (2.0 * (self.b + p)))
        return (p / self.p) ** (-(g + 1.0) / (2.0 * g)) / (self.rho * self.c)


class RiemannProblem:
    """The exact solution for the left and right states (rho, u, p): the star
    pressure and velocity at construction, the state at any x / t from ``sample``."""

    def __init__(self, left, right, gamma, tolerance=1e-15):
        self.gamma = gamma
        self.left = Side(*map(float, left), gamma)
        self.right = Side(*map(float, right), gamma)
        lt, rt = self.left, self.right
        du = rt.u - lt.u
        # the pressure positivity condition, Toro eq. 4.40: no vacuum if it holds
        self.vacuum = 2.0 * (lt.c + rt.c) / (gamma - 1.0) <= du
        if self.vacuum:
            self.p_star, self.u_star = 0.0, None
            return
        # two-rarefaction guess, Toro eq. 4.46
        z = (gamma - 1.0) / (2.0 * gamma)
        p = ((lt.c + rt.c - 0.5 * (gamma - 1.0) * du)
             / (lt.c / lt.p ** z + rt.c / rt.p ** z)) ** (1.0 / z)
        for _ in range(100):
            p_new = p - (lt.f(p) + rt.f(p) + du) / (lt.df(p) + rt.df(p))
            p_new = max(p_new, tolerance * p)  # Newton may overshoot below zero
            change = 2.0 * abs(p_new - p) / (p_new + p)  # Toro eq. 4.45
            p = p_new
            if change < tolerance:
                break
        else:
            raise RuntimeError("Newton iteration for p* did not converge")
        self.p_star = p
        self.u_star = 0.5 * (lt.u + rt.u) + 0.5 * (rt.f(p) - lt.f(p))  # Toro eq. 4.9

    def star_density(self, side):
        """rho*_K behind a shock (Toro eqs. 4.50, 4.57) or a rarefaction (eqs. 4.53,
        4.60)."""
        k, g = side, self.gamma
        ratio = self.p_star / k.p
        if ratio > 1.0:
            m = (g - 1.0) / (g + 1.0)
            return k.rho * (ratio + m) / (m * ratio + 1.0)
        return k.rho * ratio ** (1.0 / g)

    def sample(self, xi):
        """(rho, u, p) at x / t = xi, Toro sec. 4.5 (u is NaN in a vacuum).  The right
        side is sampled as the mirror image (x -> -x, u -> -u) of the left one."""
        g, lt, rt = self.gamma, self.left, self.right
        mirrored = Side(rt.rho, -rt.u, rt.p, g)
        if self.vacuum:
            front_l = lt.u + 2.0 * lt.c / (g - 1.0)
            front_r = rt.u - 2.0 * rt.c / (g - 1.0)
            if xi <= front_l:
                return self._sample_left(lt, front_l, xi)
            if xi >= front_r:
                rho, u, p = self._sample_left(mirrored, -front_r, -xi)
                return rho, -u, p
            return 0.0, math.nan, 0.0
        if xi <= self.u_star:
            return self._sample_left(lt, self.u_star, xi)
        rho, u, p = self._sample_left(mirrored, -self.u_star, -xi)
        return rho, -u, p

    def _sample_left(self, k, u_star, xi):
        """The left wave family at xi <= u*: state K, shock or rarefaction, star state."""
        g = self.gamma
        rho_star = self.star_density(k)
        if self.p_star > k.p:
            # shock speed, Toro eq. 4.52
            s = k.u - k.c * math.sqrt((g + 1.0) / (2.0 * g) * self.p_star / k.p
                                      + (g - 1.0) / (2.0 * g))
            return (k.rho, k.u, k.p) if xi <= s else (rho_star, u_star, self.p_star)
        c_star = k.c * (self.p_star / k.p) ** ((g - 1.0) / (2.0 * g))  # eq. 4.54
        head, tail = k.u - k.c, u_star - c_star  # eq. 4.55
        if xi <= head:
            return k.rho, k.u, k.p
        if xi >= tail:
            return rho_star, u_star, self.p_star
        # inside the fan, Toro eq. 4.56
        w = 2.0 / (g + 1.0) + (g - 1.0) / ((g + 1.0) * k.c) * (k.u - xi)
        return (k.rho * w ** (2.0 / (g - 1.0)),
                2.0 / (g + 1.0) * (k.c + 0.5 * (g - 1.0) * k.u + xi),
                k.p * w ** (2.0 * g / (g - 1.0)))


def solution(left, right, gamma, x, t, x0=0.5):
    """Density, velocity and pressure at the positions x at time t for a
    discontinuity starting at x0: an array of shape (3, len(x))."""
    problem = RiemannProblem(left, right, gamma)
    return np.array([problem.sample((xk - x0) / t) for xk in np.ravel(x)]).T
