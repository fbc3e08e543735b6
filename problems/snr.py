"""Supernova remnant: freely expanding ejecta (uniform core + power-law envelope) in a uniform medium.

At the start time t0 the ejecta expand homologously, v = r / t0, out to
R0 = v_ej t0, with density rho = A t0^-3 for v < v_core and A t0^-3 (v /
v_core)^-n beyond (Truelove & McKee 1999, ApJS 120, 299, sec. 2; Chevalier
1982, ApJ 258, 790).  v_ej = v_core / w_core, and v_core is fixed by E and M
for the chosen n and w_core.  The profile is set on the cell centres, then the
density is scaled so that the grid holds exactly m_ej and the velocities so
that it holds exactly e_sn of kinetic energy.  The ``ejecta`` scalar marks the
ejecta.  Runs in 1D spherical symmetry (mesh.geometry: spherical) or in 3D.
"""

import numpy as np

from hydro.core.problem import POSITIVE, Parameter, centre_entries, holds_a_cell

SCALARS = ("ejecta",)

PARAMETERS = [
    Parameter("e_sn", 1.0, "code_energy", "explosion (kinetic) energy", **POSITIVE),
    Parameter("m_ej", 1.0, "code_mass", "ejecta mass", **POSITIVE),
    # TM99 (and Chevalier 1982) need n > 5: below it the energy of rho ~ v^-n lies in the
    # fastest ejecta (it would diverge without the cut at v_ej); core_velocity divides by 5 - n
    Parameter("n", 7.0, "", "power-law index of the ejecta envelope", low=5.0,
              low_open=True),
    # w_core = 1 leaves no envelope: uniform ejecta
    Parameter("w_core", 0.2, "", "core velocity over the maximum ejecta velocity",
              **POSITIVE, high=1.0),
    Parameter("center", [0.0, 0.0, 0.0], "code_length", "explosion site (x, y, z)",
              check=centre_entries()),
    # the profile is set on the cell centres within r_ej, then scaled to hold m_ej
    Parameter("r_ej", 0.1, "code_length", "initial outer radius of the ejecta", **POSITIVE,
              check=holds_a_cell(lambda p, mesh: p.center)),
    Parameter("rho_ambient", 1.0, "code_density", "ambient density", **POSITIVE),
    Parameter("p_ambient", 1e-6, "code_pressure", "ambient (and ejecta) pressure",
              **POSITIVE),
]


def core_velocity(e_sn, m_ej, n, w_core):
    """v_core of a core + envelope cut at v_core / w_core with energy e_sn and mass m_ej:
    M = 4 pi A v_c^3 I_3 and E = 2 pi A v_c^5 I_5 with I_k = 1/k + (w^(n-k) - 1)/(k - n),
    so v_c^2 = 2 (E / M) I_3 / I_5  (-> 10 (n-5) / (3 (n-3)) E / M as w -> 0, TM99)."""
    i3 = 1.0 / 3.0 + (w_core ** (n - 3.0) - 1.0) / (3.0 - n)
    i5 = 1.0 / 5.0 + (w_core ** (n - 5.0) - 1.0) / (5.0 - n)
    return np.sqrt(2.0 * e_sn / m_ej * i3 / i5)


def _profile(r, p, t0):
    """Shape of the ejecta density (1 in the core) and velocity at the radii r."""
    v = r / t0
    v_core = core_velocity(p.e_sn, p.m_ej, p.n, p.w_core)
    shape = np.where(v < v_core, 1.0, (np.maximum(v, v_core) / v_core) ** -p.n)
    return shape, v


def initial_conditions(w, block, mesh, p, gamma):
    v_ej = core_velocity(p.e_sn, p.m_ej, p.n, p.w_core) / p.w_core
    t0 = p.r_ej / v_ej
    # mass and kinetic energy of the unscaled profile on the whole grid
    mass, energy = _grid_integrals(mesh, p, t0)
    scale_rho = p.m_ej / mass
    scale_v = np.sqrt(p.e_sn / (scale_rho * energy))
    x, y, z = (np.broadcast_to(c, block.shape)[block.active]
               for c in block.coordinates(ghosts=True))
    d = [c - p.center[a] if a < mesh.ndim else 0.0 * c for a, c in enumerate((x, y, z))]
    r = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    inside = r < p.r_ej
    shape, v = _profile(r, p, t0)
    a = block.active
    w[0][a] = np.where(inside, scale_rho * shape, p.rho_ambient)
    for axis in range(3):
        w[1 + axis][a] = np.where(inside & (r > 0), scale_v * v * d[axis] / np.where(
            r > 0, r, 1.0), 0.0)
    w[4][a] = p.p_ambient
    w[5][a] = np.where(inside, 1.0, 0.0)


def _grid_integrals(mesh, p, t0):
    """Sum over all cells (not only this block's) of the profile's mass and kinetic energy."""
    centres = [mesh.global_centres(a) - p.center[a] if a < mesh.ndim else np.zeros(1)
               for a in range(3)]
    if mesh.geometry == "spherical":
        r = centres[0]
        faces = mesh.xmin[0] + np.arange(mesh.nx[0] + 1) * mesh.dx[0]
        volume = 4.0 * np.pi / 3.0 * (faces[1:] ** 3 - faces[:-1] ** 3)
        shape, v = _profile(r, p, t0)
        inside = r < p.r_ej
        return (np.sum(np.where(inside, shape, 0.0) * volume),
                np.sum(np.where(inside, 0.5 * shape * v * v, 0.0) * volume))
    mass = energy = 0.0
    x, y = centres[0][None, :], centres[1][:, None]
    for z in centres[2]:  # a plane at a time: the grid may be large
        r = np.sqrt(x ** 2 + y ** 2 + z ** 2)
        shape, v = _profile(r, p, t0)
        inside = r < p.r_ej
        mass += np.sum(np.where(inside, shape, 0.0))
        energy += np.sum(np.where(inside, 0.5 * shape * v * v, 0.0))
    return mass * mesh.cell_volume, energy * mesh.cell_volume
