"""The compressible Euler equations of an ideal gas, with passive scalars.

    d/dt (rho, rho v, E, rho s) + div (rho v, rho v v + p I, (E + p) v, rho s v) = 0,
    E = p / (gamma - 1) + rho v^2 / 2.

This module is a "system" of the driver (``hydro.core.system``, registered as
"euler", the default): it owns the variable layout, the conversions between
conserved and primitive variables (with floors), the CFL time step, the
flux-divergence update of one integrator stage and its first-order
correction, the sources a problem module asks for (gravity, winds, cooling),
what the problems' hooks are given (gamma), the history columns, the output
fields and the counters of the log.

Conserved ``u[var]``: rho, rho vx, rho vy, rho vz, E, rho s_1 .. rho s_n.
Primitive ``w[var]``: rho, vx, vy, vz, p, s_1 .. s_n.

The update is unsplit and dimension-agnostic: for each active axis one
kernel walks the faces row by row (a pencil along x, a row of faces side by
side across the pencils of y and z), reconstructs each cell once
(``reconstruct``, the high edge kept for the next face), solves the row's
Riemann problems (``riemann``) and adds the flux differences into ``u``; the
only buffers are a few rows long, and each phase is a loop over the row that
the compiler vectorises.  The kernel is compiled for the run's reconstruction
and solver only (``flux_kernel``).  A
scalar's flux is the mass flux times the upwind concentration (e.g.
Athena++, Stone et al. 2020, ApJS 249, 4, sec. 3.3).

Every loop over cells in a time step shares its rows or pencils out to the
rank's threads (``threads``): each cell's arithmetic is the same on any
number of threads, so are the bits.
"""

import functools
import logging
import math

import numba
import numpy as np

from hydro.core import reconstruct, threads, units
from hydro.euler import riemann
from hydro.core.mesh import Block
from hydro.core.system import System

log = logging.getLogger("hydro")

NHYDRO = 5
# The largest stable Courant number of the unsplit integrators per number of
# dimensions, with dt = min over axes of dx / (|v| + c_s): 1 in 1D and 1/2 in 2D
# and 3D (Stone & Gardiner 2009, New Astron. 14, 139, sec. 4, for VL2; Athena++
# enforces the same limits for all its integrators).
CFL_LIMIT = {1: 1.0, 2: 0.5, 3: 0.5}
PRIMITIVE_NAMES = ("density", "velocity_x", "velocity_y", "velocity_z", "pressure")
CONSERVED_NAMES = ("mass", "momentum_x", "momentum_y", "momentum_z", "energy")
PRIMITIVE_UNITS = ("code_mass/code_length**3", "code_length/code_time",
                   "code_length/code_time", "code_length/code_time",
                   "code_mass/(code_length*code_time**2)")


@numba.njit(inline="always")
def row(r, k0, j0, nj):
    """(k, j) of row r of cells along x, counted from (k0, j0) with nj rows per plane.

    Threads take whole rows (``threads.share``), and every cell's arithmetic is
    its own, so the bits do not depend on the number of threads."""
    return k0 + r // nj, j0 + r % nj


@numba.njit(cache=True, nogil=True)
def conserved_to_primitive(u, w, b, gamma, dfloor, pfloor, eta, ik, ndim, part, parts):
    """w = W(u) on the active cells of this part; density and pressure below the
    floors are raised (and u made consistent).  With ``ndim`` > 0 also the fastest
    signal speed |v_a| + c_s along each axis a < ndim, for the CFL time step, while
    the cell is at hand.

    Dual energy (``ik`` >= 0, the index of rho K with K = p / rho^gamma advected
    like a scalar; Bryan et al. 1995, Comput. Phys. Comm. 89, 149, sec. 3.3):
    where the thermal energy E - rho v^2/2 is below ``eta`` E it is a small
    difference of large numbers, and the pressure comes from K instead; elsewhere
    K is reset from the pressure.  E itself is never changed, so energy stays
    conserved.  Returns the numbers of density and pressure floors applied, of
    cells whose pressure came from K and of cells whose signal speed is NaN or
    inf, and the fastest signal speeds along x, y and z."""
    nrho = 0
    npres = 0
    ndual = 0
    fastest_x = fastest_y = fastest_z = 0.0
    bad = 0
    nscalar = u.shape[0] - NHYDRO
    first, last = threads.share((b[1] - b[0]) * (b[3] - b[2]), part, parts)
    for r in range(first, last):
        k, j = row(r, b[0], b[2], b[3] - b[2])
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
            if ik >= 0:
                if u[4, k, j, i] - ke < eta * u[4, k, j, i]:
                    p = u[ik, k, j, i] * rho ** (gamma - 1.0)
                    ndual += 1
                else:
                    u[ik, k, j, i] = p * rho ** (1.0 - gamma)
            if p < pfloor:
                p = pfloor
                u[4, k, j, i] = p / (gamma - 1.0) + ke
                if ik >= 0:
                    u[ik, k, j, i] = p * rho ** (1.0 - gamma)
                npres += 1
            w[0, k, j, i] = rho
            w[1, k, j, i] = vx
            w[2, k, j, i] = vy
            w[3, k, j, i] = vz
            w[4, k, j, i] = p
            for s in range(NHYDRO, NHYDRO + nscalar):
                w[s, k, j, i] = u[s, k, j, i] * inv
            if ndim > 0:
                cs = math.sqrt(gamma * p / rho)
                sx = abs(vx) + cs
                sy = abs(vy) + cs if ndim > 1 else 0.0
                sz = abs(vz) + cs if ndim > 2 else 0.0
                if sx < np.inf and sy < np.inf and sz < np.inf:
                    fastest_x = max(fastest_x, sx)
                    fastest_y = max(fastest_y, sy)
                    fastest_z = max(fastest_z, sz)
                else:
                    bad += 1
    return nrho, npres, ndual, bad, fastest_x, fastest_y, fastest_z


@numba.njit(cache=True)  # initial conditions only: one thread, quick to compile
def primitive_to_conserved(w, u, b, gamma, ik):
    """u = U(w) on the active cells (rho K from the pressure when ``ik`` >= 0)."""
    nscalar = u.shape[0] - NHYDRO
    for r in range((b[1] - b[0]) * (b[3] - b[2])):
        k, j = row(r, b[0], b[2], b[3] - b[2])
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
            if ik >= 0:
                u[ik, k, j, i] = w[4, k, j, i] * rho ** (1.0 - gamma)


@numba.njit(cache=True, nogil=True)
def combine(u, u0, b, g0, g1, part, parts):
    """u = g0 u0 + g1 u on the active cells and the first ghost layer of each active
    axis (where the flux kernel accumulates the flux through the block's faces)."""
    gk, gj, gi = min(b[0], 1), min(b[2], 1), min(b[4], 1)  # inactive axes have no ghosts
    nj = b[3] - b[2] + 2 * gj
    first, last = threads.share((b[1] - b[0] + 2 * gk) * nj, part, parts)
    for r in range(first, last):
        k, j = row(r, b[0] - gk, b[2] - gj, nj)
        for v in range(u.shape[0]):
            for i in range(b[4] - gi, b[5] + gi):
                c = (numba.uint64(v), numba.uint64(k), numba.uint64(j), numba.uint64(i))
                u[c] = g0 * u0[c] + g1 * u[c]


@numba.njit(cache=True, nogil=True)
def find_unphysical(u, b, gamma, dfloor, pfloor, eta, ik, flags, part, parts):
    """flags = 1 on active cells whose density or pressure is below its floor (or NaN),
    left as they are (0) elsewhere; returns their number.  (With dual energy, a cell
    whose pressure will come from K is judged by that pressure.)"""
    count = 0
    first, last = threads.share((b[1] - b[0]) * (b[3] - b[2]), part, parts)
    for r in range(first, last):
        k, j = row(r, b[0], b[2], b[3] - b[2])
        for i in range(b[4], b[5]):
            rho = u[0, k, j, i]
            ke = 0.5 * (u[1, k, j, i] ** 2 + u[2, k, j, i] ** 2 + u[3, k, j, i] ** 2) / rho
            p = (gamma - 1.0) * (u[4, k, j, i] - ke)
            if ik >= 0 and u[4, k, j, i] - ke < eta * u[4, k, j, i]:
                p = u[ik, k, j, i] * abs(rho) ** (gamma - 1.0)
            if not (rho >= dfloor and p >= pfloor):
                flags[k, j, i] = 1
                count += 1
    return count


@numba.njit(inline="always")
def _high_edges(w, hi, faces, k, j, ia, n, dk, dj, di, method, limiter, first_order, nvar):
    """The high edges of cells (k, j, ia) .. (k, j, ia + n - 1) into hi[v, 0 .. n - 1]
    (and for PPM the values interpolated at their high faces into ``faces``): the left
    states of the first row of faces (y, z) or of a pencil's first face (x).
    ``first_order``: the cell values (PCM) instead."""
    ui = numba.uint64  # unsigned indices: no wrap-around of negative ones to compute
    for v in range(nvar):
        if first_order:
            for f in range(n):
                hi[ui(v), ui(f)] = w[ui(v), ui(k), ui(j), ui(ia + f)]
        else:
            for f in range(n):
                _, hi[ui(v), ui(f)], faces[ui(v), ui(f)] = reconstruct.cell_edges(
                    w, v, k, j, ia + f, dk, dj, di, method, limiter, None)


@numba.njit(inline="always")
def _edges_of_row(w, lo, hi, faces, k, j, ia, dk, dj, di, method, limiter, first_order,
                  nvar):
    """Reconstruct the cells (k, j, ia + f) above a row of faces: the low edge, the
    right state of face f, into lo[v, f]; the high edge into hi[v, f + di], where along
    x (di = 1) it is the left state of the next face of the pencil, across y and z
    that of the face above in the next row.  ``first_order``: both edges are the
    cell value (PCM), whatever ``method`` is.

    PPM carries the value interpolated at a cell's high face on to the cell above
    (its low face's value): across y and z in ``faces``, a loop whose cells are
    independent and vectorise; along x from cell to cell, a loop that stays scalar,
    which for PPM is the cheaper: its limiter branches (none taken on flat data),
    where a vectorised loop computes every branch."""
    ui = numba.uint64
    for v in range(nvar):
        if first_order:
            for f in range(lo.shape[1]):
                lo[ui(v), ui(f)] = hi[ui(v), ui(f + di)] = w[ui(v), ui(k), ui(j), ui(ia + f)]
        elif di == 1:
            face = faces[ui(v), 0]
            for f in range(lo.shape[1]):
                lo[ui(v), ui(f)], hi[ui(v), ui(f + 1)], face = reconstruct.cell_edges(
                    w, v, k, j, ia + f, dk, dj, di, method, limiter, face)
        else:
            for f in range(lo.shape[1]):
                lo[ui(v), ui(f)], hi[ui(v), ui(f)], faces[ui(v), ui(f)] = \
                    reconstruct.cell_edges(w, v, k, j, ia + f, dk, dj, di, method, limiter,
                                           faces[ui(v), ui(f)])


@numba.njit(inline="always")
def _row_fluxes(w, ql, qr, flux, k, j, ia, dk, dj, di, ivn, ivt1, ivt2, gamma, solver,
                nvar):
    """The fluxes through a row of faces from their left and right states.

    A face whose high-order states are unphysical (near vacuum) is taken at first
    order.  A scalar's flux is the mass flux times its upwind reconstructed value."""
    ui = numba.uint64
    n = flux.shape[1]
    for f in range(n):
        if min(ql[0, f], qr[0, f], ql[4, f], qr[4, f]) <= 0.0:
            for v in range(NHYDRO):
                ql[v, f] = w[v, k - dk, j - dj, ia + f - di]
                qr[v, f] = w[v, k, j, ia + f]
    for f in range(n):
        f0, f1, f2, f3, f4 = riemann.flux(
            solver, ql[0, ui(f)], ql[ivn, ui(f)], ql[ivt1, ui(f)], ql[ivt2, ui(f)],
            ql[4, ui(f)], qr[0, ui(f)], qr[ivn, ui(f)], qr[ivt1, ui(f)], qr[ivt2, ui(f)],
            qr[4, ui(f)], gamma)
        flux[0, ui(f)] = f0
        flux[ivn, ui(f)] = f1
        flux[ivt1, ui(f)] = f2
        flux[ivt2, ui(f)] = f3
        flux[4, ui(f)] = f4
    for s in range(NHYDRO, nvar):
        for f in range(n):
            mass = flux[0, ui(f)]
            flux[ui(s), ui(f)] = mass * (ql[ui(s), ui(f)] if mass >= 0.0 else qr[ui(s), ui(f)])


@numba.njit(inline="always")
def _face_flagged(flags, k, j, i, dk, dj, di):
    """Whether either cell of the face below cell (k, j, i) is flagged."""
    return flags[k, j, i] != 0 or flags[k - dk, j - dj, i - di] != 0


@numba.njit(inline="always")
def _row_flagged(flags, k, j, ia, ib, dk, dj, di):
    """Whether any face of the row (k, j, ia .. ib - 1) has a flagged cell."""
    for i in range(ia, ib):
        if _face_flagged(flags, k, j, i, dk, dj, di):
            return True
    return False


@numba.njit(inline="always")
def _first_order_corrections(w, flux, flags, mass_flux, dt, k, j, ia, dk, dj, di, ivn,
                             ivt1, ivt2, gamma, nvar):
    """On the faces of flagged cells, the first-order flux minus the high-order one in
    ``flux``: the HLLE flux of the cell-centred states, and for a scalar the HLLE
    mass flux times the upwind cell value; that mass flux (times dt) into
    ``mass_flux`` if it is not empty."""
    kl, jl = k - dk, j - dj
    for f in range(flux.shape[1]):
        i = ia + f
        il = i - di
        if not _face_flagged(flags, k, j, i, dk, dj, di):
            continue
        g0, g1, g2, g3, g4 = riemann.hlle_call(
            w[0, kl, jl, il], w[ivn, kl, jl, il], w[ivt1, kl, jl, il], w[ivt2, kl, jl, il],
            w[4, kl, jl, il], w[0, k, j, i], w[ivn, k, j, i], w[ivt1, k, j, i],
            w[ivt2, k, j, i], w[4, k, j, i], gamma)
        if mass_flux.size > 0:
            mass_flux[k, j, i] = dt * g0
        for s in range(NHYDRO, nvar):
            flux[s, f] = g0 * (w[s, kl, jl, il] if g0 >= 0.0 else w[s, k, j, i]) - flux[s, f]
        flux[0, f] = g0 - flux[0, f]
        flux[ivn, f] = g1 - flux[ivn, f]
        flux[ivt1, f] = g2 - flux[ivt1, f]
        flux[ivt2, f] = g3 - flux[ivt2, f]
        flux[4, f] = g4 - flux[4, f]


@numba.njit(inline="always")
def _add_flux_differences(u, flux, flags, k, j, m, ia, dk, dj, di, dt, left, right,
                          correcting, nvar):
    """Add each face's flux, times dt and area over volume, to the cell above it and
    subtract it from the cell below (in the correction pass on flagged faces only).

    Along x a cell's two faces are in one row: the cell-by-cell form
    u + dt F_low A/V - dt F_high A/V, the same operations in the same order as face
    by face, lets the loop vectorise."""
    ui = numba.uint64
    n = flux.shape[1]
    if di == 1 and not correcting:
        for v in range(nvar):
            u[ui(v), ui(k), ui(j), ui(ia - 1)] -= dt * left[ia] * flux[ui(v), 0]
            for f in range(n - 1):
                c = ia + f
                u[ui(v), ui(k), ui(j), ui(c)] = (u[ui(v), ui(k), ui(j), ui(c)]
                                                 + dt * right[c] * flux[ui(v), ui(f)]
                                                 - dt * left[c + 1] * flux[ui(v), ui(f + 1)])
            u[ui(v), ui(k), ui(j), ui(ia + n - 1)] += (dt * right[ia + n - 1]
                                                        * flux[ui(v), ui(n - 1)])
        return
    kl, jl = k - dk, j - dj
    for v in range(nvar):
        for f in range(n):
            i = ia + f
            if correcting and not _face_flagged(flags, k, j, i, dk, dj, di):
                continue
            pos = i if di == 1 else m
            u[ui(v), ui(k), ui(j), ui(i)] += dt * right[pos] * flux[ui(v), ui(f)]
            u[ui(v), ui(kl), ui(jl), ui(i - di)] -= dt * left[pos] * flux[ui(v), ui(f)]


@numba.njit(inline="always")
def _pencils(w, u, b, axis, dt, left, right, gamma, mass_flux, flags, ichunks, tile,
             first_order, method, limiter, solver, nvar, correcting):
    """The faces of one tile of ``add_flux_divergence``: whole pencils along
    ``axis`` at one value of the outer index (k for the y sweep, j otherwise),
    and one of ``ichunks`` parts of the i range for the y and z sweeps.

    Row by row of faces (a pencil along x; across the pencils of a y or z sweep a
    row of faces side by side in memory), in phases that are each a plain loop
    over the row, which the compiler vectorises where the faces are independent:
    reconstruct the cells above the faces, solve the Riemann problems, then add
    every face's flux difference.  Each cell is reconstructed once (its high edge
    kept for the next face), and every cell receives its two face fluxes in the
    same order for any tiling.  ``method``, ``limiter``, ``solver``, ``nvar`` and
    ``correcting`` (the first-order correction pass) are compile-time constants;
    ``first_order`` (reconstruct at first order, VL2's predictor) is not: one
    kernel serves both stages of VL2, and compiles half as long as two.
    """
    ui = numba.uint64
    store = mass_flux.size > 0
    dk = 1 if axis == 2 else 0
    dj = 1 if axis == 1 else 0
    di = 1 if axis == 0 else 0
    ivn = 1 + axis
    ivt1 = 1 + (axis + 1) % 3
    ivt2 = 1 + (axis + 2) % 3
    o = (b[0] if axis == 1 else b[2]) + tile // ichunks
    m0, m1 = (b[2], b[3] + dj) if axis == 1 else (b[0], b[1] + dk)
    ni = b[5] + di - b[4]
    ia = b[4] + (tile % ichunks) * ni // ichunks
    ib = b[4] + (tile % ichunks + 1) * ni // ichunks
    n = ib - ia
    lo = np.empty((nvar, n))  # right states of the row's faces
    hi = np.empty((2, nvar, n + 1))  # high edges of this row's cells and the row below's
    flux = np.empty((nvar, n))
    faces = np.empty((nvar, n))  # PPM: values interpolated at the cells' high faces
    ready = False  # whether the high edges of the row below are in hi (y, z)
    for m in range(m0, m1):
        k, j = (o, m) if axis == 1 else (m, o)
        kl, jl = k - dk, j - dj
        if correcting and not _row_flagged(flags, k, j, ia, ib, dk, dj, di):
            ready = False
            continue
        above, below = hi[m % 2], hi[(m + 1) % 2]
        if di == 1:
            _high_edges(w, above, faces, k, j, ia - 1, 1, dk, dj, di, method, limiter,
                        first_order, nvar)
        elif not ready:
            _high_edges(w, below, faces, kl, jl, ia, n, dk, dj, di, method, limiter,
                        first_order, nvar)
        _edges_of_row(w, lo, above, faces, k, j, ia, dk, dj, di, method, limiter, first_order,
                      nvar)
        ready = True
        ql = above if di == 1 else below
        _row_fluxes(w, ql, lo, flux, k, j, ia, dk, dj, di, ivn, ivt1, ivt2, gamma, solver,
                    nvar)
        if correcting:
            _first_order_corrections(w, flux, flags, mass_flux, dt, k, j, ia, dk, dj, di,
                                     ivn, ivt1, ivt2, gamma, nvar)
        elif store:
            for f in range(n):
                mass_flux[k, j, ui(ia + f)] = dt * flux[0, ui(f)]
        _add_flux_differences(u, flux, flags, k, j, m, ia, dk, dj, di, dt, left, right,
                              correcting, nvar)


@functools.cache
def flux_kernel(method, limiter, solver, nvar, correcting=False):
    """``add_flux_divergence`` for one reconstruction, limiter and Riemann solver
    (integer codes) and number of variables, as the stage update or as its
    first-order correction pass: a run compiles only the code it uses."""

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def add_flux_divergence(w, u, b, axis, dt, left, right, gamma, mass_flux, flags, ichunks,
                            first_order, part, parts):
        """u_c += dt (A F)_{c-1/2} / V_c - dt (A F)_{c+1/2} / V_c along ``axis`` for every
        active cell c (``left``/``right``: face area over the volume of the cell on
        each side, indexed by the cell above the face).

        Faces on the low side of the active cells and the one past the last are
        visited; fluxes are also scattered into the first ghost layer of u, where
        they add up to the flux through the block's faces (ghosts of u are
        otherwise unused).  If ``mass_flux`` is not empty it receives dt F_rho at
        every face (for gravity's energy source).  If ``first_order``, the cells are
        reconstructed at first order (PCM) whatever ``method`` is.

        Threads take tiles of whole pencils (``_pencils``), so the bits do not
        depend on the number of threads.

        If ``correcting``, this is the first-order flux correction pass
        (Lemoine 2016, J. Comput. Phys. 326, 1; as in AthenaK): only the faces of
        flagged cells change, their high-order flux, recomputed bit for bit,
        replaced by the HLLE flux of the cell-centred states (and a scalar's by the
        HLLE mass flux times the upwind cell value).
        """
        outer = b[1] - b[0] if axis == 1 else b[3] - b[2]
        first, last = threads.share(outer * ichunks, part, parts)
        for tile in range(first, last):
            _pencils(w, u, b, axis, dt, left, right, gamma, mass_flux, flags, ichunks,
                     tile, first_order, method, limiter, solver, nvar, correcting)

    return add_flux_divergence


@numba.njit(cache=True)
def add_geometric_source(w, u, b, dt, left, right):
    """Spherical symmetry: the pressure force on the side walls of a shell,
    d(rho v_r)/dt += p (A_{c+1/2} - A_{c-1/2}) / V_c, which balances the pressure
    flux of a uniform gas exactly."""
    for k in range(b[0], b[1]):
        for j in range(b[2], b[3]):
            for i in range(b[4], b[5]):
                u[1, k, j, i] += dt * w[4, k, j, i] * (left[i + 1] - right[i])


def _chunks(block, axis):
    """Parts to cut the i range into for the flux kernel's threads: none for the x
    sweep (its pencils run along i), and for the y and z sweeps enough to give
    every thread work when the outer index has few values (k in 2D)."""
    threads = numba.get_num_threads()
    outer = block.nx[2] if axis == 1 else block.nx[1]
    if axis == 0 or outer >= 2 * threads:
        return 1
    return min(block.nx[0], -(-2 * threads // outer))


_NO_FLUX = np.empty((0, 0, 0))
_NO_FLAGS = np.empty((0, 0, 0), dtype=np.int8)


class Euler(System):
    """The Euler system: state layout, floors, time step and stage update."""

    name = "euler"

    def __init__(self, gamma, reconstruction, limiter, riemann_solver, scalars=(),
                 dfloor=1e-10, pfloor=1e-13, fofc=True, dual_energy=0.0):
        self.gamma = float(gamma)
        self.reconstruction = reconstruction
        self.method = reconstruct.CODES[reconstruction]
        self.limiter = reconstruct.LIMITERS[limiter]
        self.riemann_name = riemann_solver
        self.solver = riemann.CODES[riemann_solver]
        self.scalars = tuple(scalars)
        self.eta = float(dual_energy)  # thermal fraction below which p comes from K
        # rho K, K = p / rho^gamma, rides as the last scalar (not written as a field)
        self.nvar = NHYDRO + len(self.scalars) + (1 if self.eta > 0.0 else 0)
        self.ik = self.nvar - 1 if self.eta > 0.0 else -1
        self.dfloor = float(dfloor)
        self.pfloor = float(pfloor)
        self.floors = {"density": 0, "pressure": 0}
        self.dual = 0  # cell-stages whose pressure came from K
        self.fofc = bool(fofc)  # first-order flux correction before floors
        self.corrected = 0  # cells that needed it
        self.correction_ready = False  # whether the correction pass is compiled
        # what a run file adds (``from_config``); these defaults serve a bare system
        self.integrator_name = "vl2"
        self.mu = 0.6
        self.hydrogen_fraction = 0.7
        self.cooling_options = None  # the run file's cooling block
        self.cooling = None  # the Cooling source once ``source_terms`` has made it

    config_blocks = ("hydro", "cooling")

    @classmethod
    def ghost_cells(cls, cfg, module):
        return reconstruct.NGHOST[cfg["hydro"]["reconstruction"]]

    @classmethod
    def check_config(cls, cfg, module):
        """Enough cells for the reconstruction's stencil, and a stable Courant number."""
        h, m = cfg["hydro"], cfg["mesh"]
        nghost = reconstruct.NGHOST[h["reconstruction"]]
        for a, n in enumerate(m["nx"]):
            if n < nghost:
                return f"mesh.nx[{a}]: must be >= {nghost} for this reconstruction (got {n})"
        ndim = len(m["nx"])
        if h["cfl"] > CFL_LIMIT[ndim]:
            return (f"hydro.cfl: {h['cfl']:g} is above {CFL_LIMIT[ndim]:g}, the stable "
                    f"limit of the {h['integrator']} integrator in {ndim}D")
        return None

    @classmethod
    def from_config(cls, cfg, module):
        """The run's Euler system: the ``hydro`` block's scheme, floors and gas, the
        problem module's passive scalars, the ``cooling`` block for its sources."""
        h = cfg["hydro"]
        system = cls(h["gamma"], h["reconstruction"], h["limiter"], h["riemann"],
                     scalars=getattr(module, "SCALARS", ()), dfloor=h["dfloor"],
                     pfloor=h["pfloor"], fofc=h["fofc"], dual_energy=h["dual_energy"])
        system.cfl = h["cfl"]
        system.integrator_name = h["integrator"]
        system.mu = h["mu"]
        system.hydrogen_fraction = h["hydrogen_fraction"]
        system.cooling_options = cfg["cooling"]
        return system

    @property
    def nghost(self):
        return reconstruct.NGHOST[self.reconstruction]

    @property
    def primitive_names(self):
        return PRIMITIVE_NAMES + self.scalars

    @property
    def conserved_names(self):
        return CONSERVED_NAMES + self.scalars + (("entropy",) if self.ik >= 0 else ())

    @property
    def field_units(self):
        return dict(zip(self.primitive_names, PRIMITIVE_UNITS + ("",) * len(self.scalars)))

    def allocate(self, block):
        return np.zeros((self.nvar,) + block.shape)

    def primitives(self, u, w, block, ndim=0):
        """Fill w from u on the active cells, counting floors; with the number of
        dimensions ``ndim``, return the time step at cfl = 1 on this block too."""
        parts = threads.run(conserved_to_primitive, u, w, block.bounds, self.gamma,
                            self.dfloor, self.pfloor, self.eta, self.ik, ndim)
        nrho, npres, ndual, bad = (sum(part[n] for part in parts) for n in range(4))
        self.floors["density"] += nrho
        self.floors["pressure"] += npres
        self.dual += ndual
        # min over cells of dx_a / s_a is dx_a / max s_a exactly (a correctly rounded
        # quotient falls as its divisor grows): one division per axis, not per cell
        dt = math.inf
        for a in range(ndim):
            fastest = max(part[4 + a] for part in parts)
            if fastest > 0.0:
                dt = min(dt, block.dx[a] / fastest)
        return math.nan if bad else dt

    def conserved(self, w, u, block):
        primitive_to_conserved(w, u, block.bounds, self.gamma, self.ik)

    def update(self, w, u, block, ndim, dt, first_order=False, mass_flux=None):
        """u += dt * L(w): the flux divergence along every active axis (and, in
        spherical symmetry, the pressure on the shell walls).  ``mass_flux``
        (3 face arrays, or None) receives dt F_rho of every face."""
        self._flux_pass(w, u, block, ndim, dt, first_order, mass_flux, _NO_FLAGS, False)
        if block.geometry == "spherical":
            add_geometric_source(w, u, block.bounds, dt, *block.face_factors(0))

    def _flux_pass(self, w, u, block, ndim, dt, first_order, mass_flux, flags, correcting):
        kernel = flux_kernel(self.method, self.limiter, self.solver, self.nvar, correcting)
        for axis in range(ndim):
            left, right = block.face_factors(axis)
            threads.run(kernel, w, u, block.bounds, axis, dt, left, right, self.gamma,
                        _NO_FLUX if mass_flux is None else mass_flux[axis], flags,
                        _chunks(block, axis), first_order)

    def flag_unphysical(self, u, block, flags):
        """Mark the active cells a stage left below the density or pressure floor."""
        flags.fill(0)
        count = sum(threads.run(find_unphysical, u, block.bounds, self.gamma, self.dfloor,
                                self.pfloor, self.eta, self.ik, flags))
        self.corrected += count
        return count

    def correct_fluxes(self, w, u, block, ndim, dt, first_order, mass_flux, flags):
        """First-order flux correction of the last ``update`` on the faces of flagged
        cells (``flags`` with the neighbours' flags in its ghosts)."""
        if flags.any():
            self._flux_pass(w, u, block, ndim, dt, first_order, mass_flux, flags, True)

    def warm_up_correction(self, ndim):
        """Compile (or load from the cache) the first-order correction pass.  It is as
        large as the update's kernel and many runs never need it, so it is compiled
        when a stage first flags cells, not at start-up."""
        block, w, u = self._warm_up_state(ndim)
        flags = np.ones(u.shape[1:], dtype=np.int8)
        self.correct_fluxes(w, u, block, ndim, 1e-3, False, None, flags)
        self.correction_ready = True

    def _warm_up_state(self, ndim):
        """A block of a few cells of uniform gas, to compile kernels on."""
        n = tuple(self.nghost if a < ndim else 1 for a in range(3))
        block = Block((0, 0, 0), n, tuple(self.nghost if a < ndim else 0 for a in range(3)),
                      (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
        u, w = self.allocate(block), self.allocate(block)
        w[0] = 1.0
        w[4] = 1.0
        self.conserved(w, u, block)
        return block, w, u

    def warm_up(self, ndim, spherical=False, combines=True):
        """Compile (or load from the cache) every kernel a run of this system uses
        from its start, on a block of a few cells: the stage combination only for
        integrators that combine (not VL2), the shell-wall source only in spherical
        symmetry.  (The flux correction pass: ``warm_up_correction``.)"""
        block, w, u = self._warm_up_state(ndim)
        floors, dual = dict(self.floors), self.dual
        self.primitives(u, w, block, ndim)
        self.floors, self.dual = floors, dual
        if combines:
            threads.run(combine, u, u.copy(), block.bounds, 0.5, 0.5)
        self.update(w, u, block, ndim, 1e-3)
        self.flag_unphysical(u, block, np.ones(u.shape[1:], dtype=np.int8))
        if spherical:
            add_geometric_source(w, u, block.bounds, 1e-3, *block.face_factors(0))

    # -- the seam with the driver (``hydro.core.system.System``) --------------------

    @property
    def hook_args(self):
        """What the problem's hooks and the sources' time steps get: gamma."""
        return (self.gamma,)

    @property
    def gdf_gamma(self):
        return self.gamma

    @property
    def physical_units(self):
        """Cooling tables are in K and erg, so cooling makes the code units cgs."""
        return self.cooling is not None

    def describe(self):
        return f"{self.reconstruction} + {self.riemann_name} + {self.integrator_name}"

    def source_terms(self, module, p, mesh, unit_system):
        """The problem's own sources, then its winds (``injection``), its static
        gravity (``potential``) and the run file's cooling."""
        from hydro.sources.cooling import Cooling  # these import this module's kernels' helpers
        from hydro.sources.gravity import Gravity
        from hydro.sources.injection import Injection
        sources = super().source_terms(module, p, mesh, unit_system)
        if hasattr(module, "injection"):
            sources.append(Injection(module.injection(p), mesh, self.scalars))
        if hasattr(module, "potential"):
            sources.append(Gravity(lambda x, y, z: module.potential(x, y, z, p)))
        c = self.cooling_options
        if c is not None and c["table"] is not None:
            self.cooling = Cooling(c["table"], unit_system, self.mu, self.hydrogen_fraction,
                                   self.gamma, c["temperature_floor"], c["heating"],
                                   c["metallicity"], self.eta, self.ik)
            sources.append(self.cooling)
        return sources

    def make_integrator(self, boundaries, sources, ndim):
        from hydro.euler.integrator import Integrator  # it imports ``combine`` from here
        return Integrator(self.integrator_name, self, boundaries, sources, ndim)

    def initial_state(self, module, w, u, block, mesh, p):
        """The problem's primitives (from zero), then u from them."""
        w[:] = 0.0
        module.initial_conditions(w, block, mesh, p, self.gamma)
        self.conserved(w, u, block)

    def limit_step(self, step, states, parallel):
        """With ``cooling.dt_fraction`` (accuracy studies) at most that fraction of the
        shortest cooling time.  Collective."""
        fraction = self.cooling_options["dt_fraction"] if self.cooling_options else None
        if self.cooling is not None and fraction is not None:
            t_cool, _ = parallel.min(min(self.cooling.cooling_time(s.u, s.block)
                                         for s in states))
            step = min(step, fraction * t_cool)
        return step

    def after_update(self, state, ndim, dt, first_order, boundaries):
        """First-order flux correction of the stage just updated: flag the cells left
        below the floors, exchange the flags with the neighbouring blocks, redo
        their faces at first order."""
        if not self.fofc:
            return
        block = state.block
        flags = state.scratch.get("flags")
        if flags is None:
            flags = state.scratch["flags"] = np.zeros(block.shape, dtype=np.int8)
        flagged = self.flag_unphysical(state.u, block, flags)
        boundaries.exchange(flags[None], block)
        self._compile_correction(flagged, ndim, boundaries.parallel)
        self.correct_fluxes(state.w, state.u, block, ndim, dt, first_order,
                            state.mass_flux, flags)

    def _compile_correction(self, flagged, ndim, parallel):
        """Until the first-order flux correction is compiled: once any rank has
        flagged cells, compile it there, rank 0 first (so that ranks never race on
        the numba cache).  Every rank takes the same branch."""
        if self.correction_ready or parallel.sum_int(flagged) == 0:
            return
        log.info("cells below the floors: compiling the first-order flux correction "
                 "(or loading it from the cache)")
        parallel.rank0_first(lambda: self.warm_up_correction(ndim))

    # boundaries
    def reflect(self, w, ghost, axis):
        """A mirror reverses the normal velocity."""
        w[(1 + axis,) + ghost[1:]] *= -1.0

    def complete_ghosts(self, w, ghost):
        """User hooks set rho, v, p only: with dual energy, K = p / rho^gamma too."""
        if self.ik >= 0:
            w[(self.ik,) + ghost[1:]] = w[(4,) + ghost[1:]] / w[(0,) + ghost[1:]] ** self.gamma

    # outputs
    def output_fields(self, w, block, unit_system, physical):
        """The primitives (on a spherical grid yt reads velocity_x/y/z as ("gas",
        "velocity_r/theta/phi")), and with physical units the temperature in K."""
        fields = super().output_fields(w, block, unit_system, physical)
        if physical:
            fields["temperature"] = (units.temperature(w[(4,) + block.active]
                                                       / w[(0,) + block.active],
                                                       unit_system, self.mu), "K")
        return fields

    def _history_variables(self, geometry):
        """The conserved variables the history shows: not the momenta across a
        spherically symmetric grid's radius, which are zero."""
        spherical = geometry == "spherical"
        return [v for v, name in enumerate(self.conserved_names)
                if not (spherical and name in ("momentum_y", "momentum_z"))]

    def history_columns(self, geometry):
        return [self.conserved_names[v] for v in self._history_variables(geometry)]

    def history_totals(self, state, integrate, geometry):
        """Volume integrals of the conserved variables the history shows."""
        return integrate((state.u[v], [state.block.active])
                         for v in self._history_variables(geometry))

    def outflow_variables(self, geometry):
        return [(self.conserved_names[v], v) for v in self._history_variables(geometry)]

    def history_unit(self, column):
        """The code unit of a history column (a total, or a budget of one)."""
        name = column.removeprefix("outflow_").removeprefix("injected_")
        if name in ("mass",) + tuple(self.scalars):  # a scalar's total: rho X dV
            return "code_mass"
        if name.startswith("momentum"):
            return "code_mass*code_length/code_time"
        if name in ("energy", "radiated"):
            return "code_energy"
        return "code_pressure*code_length**3/code_density**(gamma-1)" if name == "entropy" \
            else ""

    # reports
    def bad_cells(self, u, w):
        """Cells not finite, or without a positive density or pressure."""
        return super().bad_cells(u, w) | ~(w[0] > 0.0) | ~(w[4] > 0.0)

    def describe_cell(self, u, w, k, j, i):
        names = [n for n, v in zip(self.conserved_names, u[:, k, j, i])
                 if not math.isfinite(v)]
        return (f"has density {w[0, k, j, i]:.6g}, pressure {w[4, k, j, i]:.6g}"
                + (f", non-finite {', '.join(names)}" if names else ""))

    def limit_text(self, state, what, cell_text, ndim):
        """The cell with the fastest signal (|v| + c_s) over dx, if the Courant
        condition sets the step."""
        if what != self.step_rule:
            return None
        block = state.block
        w = state.w[(slice(None),) + block.active]
        sound = np.sqrt(self.gamma * w[4] / w[0])
        rate = sum((np.abs(w[1 + a]) + sound) / block.dx[a] for a in range(ndim))
        k, j, i = np.unravel_index(np.argmax(rate), rate.shape)
        return (f"in {cell_text(block, k, j, i)}, where density = "
                f"{w[0, k, j, i]:.6g}, pressure = {w[4, k, j, i]:.6g}, "
                f"speed = {math.sqrt(sum(w[1 + a, k, j, i] ** 2 for a in range(3))):.6g}, "
                f"sound speed = {sound[k, j, i]:.6g}")

    def progress_text(self, sum_int):
        """Flux corrections and floors, when there were any.  Collective."""
        floors = {k: sum_int(v) for k, v in self.floors.items()}
        corrected = sum_int(self.corrected)
        extra = f" fofc={corrected}" if corrected else ""
        extra += (f" floors={floors['density']}/{floors['pressure']}"
                  if floors["density"] or floors["pressure"] else "")
        return extra

    def summary_text(self, sum_int):
        """Flux corrections, pressures from the entropy, floors.  Collective."""
        floors = {k: sum_int(v) for k, v in self.floors.items()}
        corrected = sum_int(self.corrected)
        dual = (f", pressure from the entropy: {sum_int(self.dual)} "
                f"cell-stages" if self.ik >= 0 else "")
        return (f", first-order flux corrections: {corrected} cell-stages{dual}, floors "
                f"applied: density {floors['density']}, pressure {floors['pressure']}")
