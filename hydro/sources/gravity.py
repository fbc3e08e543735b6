"""Static gravity: a fixed potential Phi(x) given by the problem.

    d(rho v)/dt = -rho grad Phi,    dE/dt = -rho v . grad Phi.

The momentum source uses the centred difference of Phi at cell centres.  The
energy source uses the mass fluxes of the stage's faces instead of rho v
(Mignone et al. 2007, ApJS 170, 228, sec. 2.4; as in Athena++):

    dE_c = -1/2 sum over the faces f of c of (dt F_rho A)_f (Phi_R - Phi_L)_f / V_c,

which makes the change of E + rho Phi a difference of face fluxes, so that the
total energy including the potential is conserved to round-off.

Potentials for problems to combine (code units, ``gm`` = G M):
``point_mass`` (Plummer-softened) and ``dehnen`` (Dehnen 1993, MNRAS 265,
250: inner density slope gamma, Hernquist for gamma = 1; a common model of
a nuclear star cluster).
"""

import numba
import numpy as np

from hydro.core import threads
from hydro.euler.system import row
from hydro.sources import SourceTerm

# CODATA 2018; a problem declares G as a parameter with this default, so that it
# is converted to the run's code units like any other value (and can be set to 1)
G = "6.67430e-8 cm**3/g/s**2"
G_UNIT = "code_length**3/(code_mass*code_time**2)"


def point_mass(r, gm, softening=0.0):
    """Phi = -G M / sqrt(r^2 + eps^2)."""
    return -gm / np.sqrt(r * r + softening * softening)


def dehnen(r, gm, a, gamma=1.0):
    """Dehnen (1993) eq. 2: Phi = -G M / a / (2 - gamma) [1 - (r / (r + a))^(2 - gamma)]
    for a cluster of mass M, scale radius a and inner slope rho ~ r^-gamma (gamma < 2)."""
    return -gm / (a * (2.0 - gamma)) * (1.0 - (r / (r + a)) ** (2.0 - gamma))


@numba.njit(cache=True, nogil=True)
def add_gravity(w, u, b, ndim, dt, phi, dx, factors, mass_flux, part, parts):
    """u += dt S_gravity on this part's active cells; ``mass_flux[a]`` holds dt F_rho of the
    stage on the low face of each cell along axis a, ``factors[a]`` the face
    area over the volume of the cells on its (left, right)."""
    u64 = numba.uint64  # indices are >= 0: unsigned, numba emits no wrap-around code
    first, last = threads.share((b[1] - b[0]) * (b[3] - b[2]), part, parts)
    for r in range(first, last):
        k, j = row(r, b[0], b[2], b[3] - b[2])
        # axis by axis along the row: the inner loop has fixed offsets, and with
        # unsigned indices it vectorises; each cell receives its axes' terms in order
        for a in range(ndim):
            dk = 1 if a == 2 else 0
            dj = 1 if a == 1 else 0
            di = 1 if a == 0 else 0
            for i in range(b[4], b[5]):
                pos = u64(i if a == 0 else (j if a == 1 else k))
                c = (u64(k), u64(j), u64(i))
                m = (u64(k - dk), u64(j - dj), u64(i - di))
                p = (u64(k + dk), u64(j + dj), u64(i + di))
                phi_m = phi[m]
                phi_c = phi[c]
                phi_p = phi[p]
                u[(u64(1 + a),) + c] -= dt * w[(u64(0),) + c] * (phi_p - phi_m) / (2.0 * dx[a])
                u[(u64(4),) + c] -= 0.5 * (
                    mass_flux[(u64(a),) + c] * (phi_c - phi_m) * factors[a, 1, pos]
                    + mass_flux[(u64(a),) + p] * (phi_p - phi_c) * factors[a, 0, pos + u64(1)])


class Gravity(SourceTerm):
    """The static potential ``potential(x, y, z)`` (code units, broadcasting over
    cell-centre coordinates) as an unsplit source term."""

    uses_mass_flux = True

    def __init__(self, potential):
        self.potential = potential
        self._cache = {}  # per block: Phi with ghosts, spacing, face factors

    def _block_data(self, block):
        if block.gid not in self._cache:
            x, y, z = block.coordinates(ghosts=True)
            phi = np.broadcast_to(self.potential(x, y, z), block.shape).astype(np.float64)
            n = max(block.shape)
            factors = np.zeros((3, 2, n + 1))
            for a in range(3):
                if block.ng[a] > 0:
                    left, right = block.face_factors(a)
                    factors[a, 0, :left.size] = left
                    factors[a, 1, :right.size] = right
            self._cache[block.gid] = (np.ascontiguousarray(phi), np.array(block.dx), factors)
        return self._cache[block.gid]

    def potential_on(self, block):
        """Phi on the block's cells, ghosts included."""
        return self._block_data(block)[0]

    def warm_up(self):
        u = np.ones((5, 3, 3, 3))
        add_gravity(u, u.copy(), np.array([1, 2, 1, 2, 1, 2]), 3, 0.0, np.zeros((3, 3, 3)),
                    np.ones(3), np.zeros((3, 2, 4)), np.zeros((3, 3, 3, 3)), 0, 1)

    def apply(self, w, u, block, t, dt, mass_flux):
        phi, dx, factors = self._block_data(block)
        ndim = sum(1 for a in range(3) if block.ng[a] > 0)
        threads.run(add_gravity, w, u, block.bounds, ndim, dt, phi, dx, factors, mass_flux)
