"""The compressible Euler equations of an ideal gas, with passive scalars.

    d/dt (rho, rho v, E, rho s) + div (rho v, rho v v + p I, (E + p) v, rho s v) = 0,
    E = p / (gamma - 1) + rho v^2 / 2.

This module is the "system" of the driver: it owns the variable layout, the
conversions between conserved and primitive variables (with floors), the
CFL time step and the flux-divergence update of one integrator stage.

Conserved ``u[var]``: rho, rho vx, rho vy, rho vz, E, rho s_1 .. rho s_n.
Primitive ``w[var]``: rho, vx, vy, vz, p, s_1 .. s_n.

The update is unsplit and dimension-agnostic: for each active axis one
kernel visits every face, reconstructs both sides (``reconstruct``), solves
the Riemann problem (``riemann``) in local scalars, and scatters the flux
difference straight into ``u``; no flux arrays are stored.  A scalar's flux
is the mass flux times the upwind concentration (e.g. Athena++, Stone et al.
2020, ApJS 249, 4, sec. 3.3).
"""

import math

import numba
import numpy as np

from . import reconstruct, riemann
from .mesh import Block

NHYDRO = 5
PRIMITIVE_NAMES = ("density", "velocity_x", "velocity_y", "velocity_z", "pressure")
CONSERVED_NAMES = ("mass", "momentum_x", "momentum_y", "momentum_z", "energy")
PRIMITIVE_UNITS = ("code_mass/code_length**3", "code_length/code_time",
                   "code_length/code_time", "code_length/code_time",
                   "code_mass/(code_length*code_time**2)")


@numba.njit(cache=True)
def conserved_to_primitive(u, w, b, gamma, dfloor, pfloor):
    """w = W(u) on the active cells; density and pressure below the floors are raised
    (and u made consistent).  Returns the numbers of density and pressure floors applied."""
    nrho = 0
    npres = 0
    nscalar = u.shape[0] - NHYDRO
    for k in range(b[0], b[1]):
        for j in range(b[2], b[3]):
            for i in range(b[4], b[5]):
                rho = u[0, k, j, i]
                if rho < dfloor:
                    rho = dfloor
                    u[0, k, j, i] = rho
                    nrho += 1
                inv = 1.0 / rho
                vx = u[1, k, j, i] * inv
                vy = u[2, k, j, i] * inv
                vz = u[3, k, j, i] * inv
                ke = 0.5 * rho * (vx * vx + vy * vy + vz * vz)
                p = (gamma - 1.0) * (u[4, k, j, i] - ke)
                if p < pfloor:
                    p = pfloor
                    u[4, k, j, i] = p / (gamma - 1.0) + ke
                    npres += 1
                w[0, k, j, i] = rho
                w[1, k, j, i] = vx
                w[2, k, j, i] = vy
                w[3, k, j, i] = vz
                w[4, k, j, i] = p
                for s in range(NHYDRO, NHYDRO + nscalar):
                    w[s, k, j, i] = u[s, k, j, i] * inv
    return nrho, npres


@numba.njit(cache=True)
def primitive_to_conserved(w, u, b, gamma):
    """u = U(w) on the active cells."""
    nscalar = u.shape[0] - NHYDRO
    for k in range(b[0], b[1]):
        for j in range(b[2], b[3]):
            for i in range(b[4], b[5]):
                rho = w[0, k, j, i]
                vx = w[1, k, j, i]
                vy = w[2, k, j, i]
                vz = w[3, k, j, i]
                u[0, k, j, i] = rho
                u[1, k, j, i] = rho * vx
                u[2, k, j, i] = rho * vy
                u[3, k, j, i] = rho * vz
                u[4, k, j, i] = (w[4, k, j, i] / (gamma - 1.0)
                                 + 0.5 * rho * (vx * vx + vy * vy + vz * vz))
                for s in range(NHYDRO, NHYDRO + nscalar):
                    u[s, k, j, i] = rho * w[s, k, j, i]


@numba.njit(cache=True)
def min_crossing_time(w, b, gamma, dx, ndim):
    """min over active cells and axes of dx_a / (|v_a| + c_s): the CFL time step for cfl = 1."""
    dt = np.inf
    for k in range(b[0], b[1]):
        for j in range(b[2], b[3]):
            for i in range(b[4], b[5]):
                cs = math.sqrt(gamma * w[4, k, j, i] / w[0, k, j, i])
                for a in range(ndim):
                    dt_cell = dx[a] / (abs(w[1 + a, k, j, i]) + cs)
                    if not dt_cell > 0.0:  # NaN or inf in the state: let the driver stop
                        return np.nan
                    dt = min(dt, dt_cell)
    return dt


@numba.njit(cache=True)
def combine(u, u0, b, g0, g1):
    """u = g0 u0 + g1 u on the active cells (the weights of a Shu-Osher stage)."""
    for v in range(u.shape[0]):
        for k in range(b[0], b[1]):
            for j in range(b[2], b[3]):
                for i in range(b[4], b[5]):
                    u[v, k, j, i] = g0 * u0[v, k, j, i] + g1 * u[v, k, j, i]


@numba.njit(cache=True)
def add_flux_divergence(w, u, b, axis, scale, gamma, method, limiter, solver):
    """u += scale * (F_{c-1/2} - F_{c+1/2}) along ``axis`` for every active cell c.

    ``scale`` is (stage weight) * dt / dx.  Faces on the low side of the active
    cells and the one past the last are visited; fluxes are also scattered into
    the first ghost layer of u, which is never read (ghosts of u are unused).
    """
    nscalar = w.shape[0] - NHYDRO
    dk = 1 if axis == 2 else 0
    dj = 1 if axis == 1 else 0
    di = 1 if axis == 0 else 0
    ivn = 1 + axis
    ivt1 = 1 + (axis + 1) % 3
    ivt2 = 1 + (axis + 2) % 3
    for k in range(b[0], b[1] + dk):
        for j in range(b[2], b[3] + dj):
            for i in range(b[4], b[5] + di):
                rl, rr = reconstruct.face_states(w, 0, k, j, i, dk, dj, di, method, limiter)
                vnl, vnr = reconstruct.face_states(w, ivn, k, j, i, dk, dj, di, method, limiter)
                t1l, t1r = reconstruct.face_states(w, ivt1, k, j, i, dk, dj, di, method, limiter)
                t2l, t2r = reconstruct.face_states(w, ivt2, k, j, i, dk, dj, di, method, limiter)
                pl, pr = reconstruct.face_states(w, 4, k, j, i, dk, dj, di, method, limiter)
                if min(rl, rr, pl, pr) <= 0.0:
                    # unphysical high-order states (near vacuum): this face at first order
                    rl, rr = w[0, k - dk, j - dj, i - di], w[0, k, j, i]
                    vnl, vnr = w[ivn, k - dk, j - dj, i - di], w[ivn, k, j, i]
                    t1l, t1r = w[ivt1, k - dk, j - dj, i - di], w[ivt1, k, j, i]
                    t2l, t2r = w[ivt2, k - dk, j - dj, i - di], w[ivt2, k, j, i]
                    pl, pr = w[4, k - dk, j - dj, i - di], w[4, k, j, i]
                f0, f1, f2, f3, f4 = riemann.flux(solver, rl, vnl, t1l, t2l, pl,
                                                  rr, vnr, t1r, t2r, pr, gamma)
                f0 *= scale
                f1 *= scale
                f2 *= scale
                f3 *= scale
                f4 *= scale
                u[0, k, j, i] += f0
                u[ivn, k, j, i] += f1
                u[ivt1, k, j, i] += f2
                u[ivt2, k, j, i] += f3
                u[4, k, j, i] += f4
                u[0, k - dk, j - dj, i - di] -= f0
                u[ivn, k - dk, j - dj, i - di] -= f1
                u[ivt1, k - dk, j - dj, i - di] -= f2
                u[ivt2, k - dk, j - dj, i - di] -= f3
                u[4, k - dk, j - dj, i - di] -= f4
                for s in range(NHYDRO, NHYDRO + nscalar):
                    sl, sr = reconstruct.face_states(w, s, k, j, i, dk, dj, di, method, limiter)
                    fs = f0 * (sl if f0 >= 0.0 else sr)
                    u[s, k, j, i] += fs
                    u[s, k - dk, j - dj, i - di] -= fs


class Euler:
    """The Euler system: state layout, floors, time step and stage update."""

    def __init__(self, gamma, reconstruction, limiter, riemann_solver, scalars=(),
                 dfloor=1e-10, pfloor=1e-13):
        self.gamma = float(gamma)
        self.reconstruction = reconstruction
        self.method = reconstruct.CODES[reconstruction]
        self.limiter = reconstruct.LIMITERS[limiter]
        self.solver = riemann.CODES[riemann_solver]
        self.scalars = tuple(scalars)
        self.nvar = NHYDRO + len(self.scalars)
        self.dfloor = float(dfloor)
        self.pfloor = float(pfloor)
        self.floors = {"density": 0, "pressure": 0}

    @property
    def nghost(self):
        return reconstruct.NGHOST[self.reconstruction]

    @property
    def primitive_names(self):
        return PRIMITIVE_NAMES + self.scalars

    @property
    def conserved_names(self):
        return CONSERVED_NAMES + self.scalars

    @property
    def field_units(self):
        return dict(zip(self.primitive_names, PRIMITIVE_UNITS + ("",) * len(self.scalars)))

    def allocate(self, block):
        return np.zeros((self.nvar,) + block.shape)

    def primitives(self, u, w, block):
        """Fill w from u on the active cells, counting floors."""
        nrho, npres = conserved_to_primitive(u, w, block.bounds, self.gamma,
                                             self.dfloor, self.pfloor)
        self.floors["density"] += nrho
        self.floors["pressure"] += npres

    def conserved(self, w, u, block):
        primitive_to_conserved(w, u, block.bounds, self.gamma)

    def crossing_time(self, w, block, ndim):
        """Time step at cfl = 1 on this block."""
        return min_crossing_time(w, block.bounds, self.gamma, np.array(block.dx), ndim)

    def update(self, w, u, block, ndim, dt, first_order=False):
        """u += dt * L(w): the flux divergence along every active axis."""
        method = reconstruct.PCM if first_order else self.method
        b = block.bounds
        for axis in range(ndim):
            add_flux_divergence(w, u, b, axis, dt / block.dx[axis], self.gamma,
                                method, self.limiter, self.solver)

    def warm_up(self, ndim):
        """Compile (or load from the cache) every kernel a run of this system uses,
        on a block of a few cells."""
        n = tuple(self.nghost if a < ndim else 1 for a in range(3))
        block = Block((0, 0, 0), n, tuple(self.nghost if a < ndim else 0 for a in range(3)),
                      (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
        u, w = self.allocate(block), self.allocate(block)
        w[0] = 1.0
        w[4] = 1.0
        self.conserved(w, u, block)
        floors = dict(self.floors)
        self.primitives(u, w, block)
        self.floors = floors
        self.crossing_time(w, block, ndim)
        combine(u, u.copy(), block.bounds, 0.5, 0.5)
        self.update(w, u, block, ndim, 1e-3, first_order=True)
        self.update(w, u, block, ndim, 1e-3)
