"""The unperturbed system of the phase-space solver: a fixed vertical potential
Phi0(z) and a distribution function f0(E), E = v^2/2 + Phi0(z).

Any f0(E) in a fixed potential is an exact steady state (Jeans' theorem), so the
solver evolves delta f = f - f0 only and an unperturbed disk stays put to the
last bit.  Code units throughout; numpy-vectorised functions of z (and v).

Potentials (add them with ``+``):
- ``Slab(sigma, rho0, G)``: the self-consistent isothermal slab (Spitzer 1942),
  rho = rho0 sech^2(z/z0), Phi0 = 2 sigma^2 ln cosh(z/z0),
  z0 = sigma / sqrt(2 pi G rho0), midplane frequency nu0^2 = 4 pi G rho0
  (Binney & Tremaine 2008, problem 4.21; shared/notes/phase-mixing.md sec. 1.1).
- ``Harmonic(nu)``: Phi = nu^2 z^2 / 2 (a test potential, and a halo's term
  near the plane, nu_h^2 = 4 pi G rho_h).
- ``Uniform(g)``: Phi = g z, a uniform acceleration -g (a test potential;
  ``Uniform(0)`` is free streaming).

Distribution functions of E:
- ``Isothermal(sigma, rho0)``: f0 = rho0 / (sqrt(2 pi) sigma) exp(-E / sigma^2),
  the slab's own (its density is rho0 at E = 0).
- ``Lowered(sigma, rho0, e_max)``: f0 = rho0 / (sqrt(2 pi) sigma)
  [exp(-E/sigma^2) - exp(-e_max)] below E = e_max sigma^2, 0 above: bounded
  support, so no star reaches a grid that contains it (note sec. 1.1).
"""

import math
from dataclasses import dataclass

import numpy as np


class Potential:
    """A vertical potential: ``phi(z)``, ``accel(z)`` = -dPhi/dz, and ``curvature``,
    Phi''(0), the square of the midplane vertical frequency (0: none)."""

    curvature = 0.0

    def phi(self, z):
        raise NotImplementedError

    def accel(self, z):
        raise NotImplementedError

    def __add__(self, other):
        return Sum(self, other)

    @property
    def period(self):
        """The midplane vertical period 2 pi / sqrt(Phi''(0)), or None if Phi''(0) <= 0."""
        return 2.0 * math.pi / math.sqrt(self.curvature) if self.curvature > 0.0 else None


class Sum(Potential):
    def __init__(self, a, b):
        self.parts = (a, b)
        self.curvature = a.curvature + b.curvature

    def phi(self, z):
        return self.parts[0].phi(z) + self.parts[1].phi(z)

    def accel(self, z):
        return self.parts[0].accel(z) + self.parts[1].accel(z)


class Slab(Potential):
    """The isothermal slab of dispersion ``sigma`` and midplane density ``rho0``."""

    def __init__(self, sigma, rho0, G):
        self.sigma = sigma
        self.z0 = sigma / math.sqrt(2.0 * math.pi * G * rho0)
        self.curvature = 4.0 * math.pi * G * rho0  # = 2 sigma^2 / z0^2

    def phi(self, z):
        # ln cosh x = |x| + log1p(exp(-2|x|)) - ln 2, without overflow at large |x|
        x = np.abs(np.asarray(z, dtype=float)) / self.z0
        return 2.0 * self.sigma ** 2 * (x + np.log1p(np.exp(-2.0 * x)) - math.log(2.0))

    def accel(self, z):
        return -2.0 * self.sigma ** 2 / self.z0 * np.tanh(np.asarray(z, dtype=float) / self.z0)


class Harmonic(Potential):
    def __init__(self, nu):
        self.nu = nu
        self.curvature = nu * nu

    def phi(self, z):
        return 0.5 * self.curvature * np.asarray(z, dtype=float) ** 2

    def accel(self, z):
        return -self.curvature * np.asarray(z, dtype=float)


class Uniform(Potential):
    def __init__(self, g):
        self.g = g

    def phi(self, z):
        return self.g * np.asarray(z, dtype=float)

    def accel(self, z):
        return np.full(np.shape(z), -self.g)


class Isothermal:
    def __init__(self, sigma, rho0):
        self.sigma = sigma
        self.norm = rho0 / (math.sqrt(2.0 * math.pi) * sigma)

    def __call__(self, energy):
        return self.norm * np.exp(-energy / self.sigma ** 2)

    def derivative(self, energy):
        """df0/dE."""
        return -self(energy) / self.sigma ** 2


class Lowered(Isothermal):
    def __init__(self, sigma, rho0, e_max):
        super().__init__(sigma, rho0)
        self.e_max = e_max * sigma ** 2

    def __call__(self, energy):
        value = self.norm * (np.exp(-energy / self.sigma ** 2)
                             - math.exp(-self.e_max / self.sigma ** 2))
        return np.where(energy < self.e_max, value, 0.0)

    def derivative(self, energy):
        return np.where(energy < self.e_max,
                        -self.norm * np.exp(-energy / self.sigma ** 2) / self.sigma ** 2, 0.0)


@dataclass
class Equilibrium:
    """The unperturbed system: a potential and f0(E) (``df`` None: f0 = 0)."""

    potential: Potential
    df: object = None

    def energy(self, z, v):
        return 0.5 * np.asarray(v, dtype=float) ** 2 + self.potential.phi(z)

    def f0(self, z, v):
        if self.df is None:
            return np.zeros(np.broadcast(np.asarray(z), np.asarray(v)).shape)
        return self.df(self.energy(z, v))

    def df0_dv(self, z, v):
        """d f0 / dv = v f0'(E): what a small kick dv(z) changes, -dv df0/dv."""
        if self.df is None:
            return np.zeros(np.broadcast(np.asarray(z), np.asarray(v)).shape)
        return np.asarray(v, dtype=float) * self.df.derivative(self.energy(z, v))


def cell_average(func, block, points=4, ghosts=False):
    """The average of ``func(z, v)`` over each active cell of a (z, v) block (every
    cell with ``ghosts``), by Gauss-Legendre quadrature with ``points`` x ``points``
    nodes (exact for polynomials of degree 2 points - 1 in each variable); shape
    (1, n_v, n_z), that of ``w[0][block.active]`` (or ``w[0]``)."""
    nodes, weights = np.polynomial.legendre.leggauss(points)  # symmetric about 0
    z, v, _ = block.coordinates(ghosts)

    def term(i, j):
        return 0.25 * weights[i] * weights[j] * func(z + 0.5 * nodes[i] * block.dx[0],
                                                     v + 0.5 * nodes[j] * block.dx[1])

    # the nodes in mirrored pairs, each pair added first: the cell mirrored through
    # the origin adds the same numbers in the same order, so a function odd or even
    # under (z, v) -> (-z, -v) has cell averages exactly as odd or even
    last = points - 1
    pairs = [(i, j) for i in range(points) for j in range(points)
             if (i, j) < (last - i, last - j)]
    total = term(last // 2, last // 2) if points % 2 else 0.0  # the node at the centre
    for i, j in pairs:
        total = total + (term(i, j) + term(last - i, last - j))
    return np.broadcast_to(total, (1, v.shape[1], z.shape[2])).copy()
