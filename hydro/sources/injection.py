"""Mass, momentum and energy injection in spheres: stellar and cluster winds.

A region of radius R around a centre adds mass at the rate ``mdot`` and total
energy at the rate ``edot``.  Each cell receives the share of its volume that
lies inside the sphere (sampled on a sub-grid of ``SUBSAMPLES`` points per
axis; exact shells in spherical symmetry), and the shares are normalised over
the whole grid, so the grid gains exactly mdot dt and edot dt per step at any
resolution, even for a sphere smaller than a cell or cut by the domain edge.
With ``wind_speed`` v_w the mass enters moving radially outwards at v_w (its
kinetic energy is part of edot); it may carry a passive scalar (concentration 1).

Uniform injection of mass and energy within R is the cluster-wind model of
Chevalier & Clegg (1985, Nature 317, 44).
"""

import math
from dataclasses import dataclass

import numpy as np

from hydro.sources import SourceTerm

SUBSAMPLES = 8


@dataclass(frozen=True)
class Region:
    """One injection sphere (code units): centre (x, y, z), radius, rates."""

    centre: tuple
    radius: float
    mdot: float
    edot: float
    wind_speed: float = 0.0
    scalar: str = None

    def check(self, scalars):
        if not self.radius > 0.0 or self.mdot < 0.0 or self.edot < 0.0:
            raise ValueError(f"injection region: needs radius > 0 and rates >= 0, got {self}")
        if self.edot < 0.5 * self.mdot * self.wind_speed ** 2 * (1.0 - 1e-12):
            raise ValueError(f"injection region: edot {self.edot:g} is below the wind's "
                             f"kinetic power mdot v_w^2 / 2 = "
                             f"{0.5 * self.mdot * self.wind_speed ** 2:g}")
        if self.scalar is not None and self.scalar not in scalars:
            raise ValueError(f"injection region: the problem has no scalar '{self.scalar}' "
                             f"(it has {', '.join(scalars) or 'none'})")


def _inside_fraction(mesh, region, axis_index):
    """Share of each cell's volume inside the sphere, on the global cells given by
    ``axis_index`` (global index arrays per axis x, y, z); shape [k, j, i]."""
    if mesh.geometry == "spherical":
        r = mesh.xmin[0] + axis_index[0] * mesh.dx[0]
        inner = np.clip(r, 0.0, region.radius) ** 3
        outer = np.clip(r + mesh.dx[0], 0.0, region.radius) ** 3
        return ((outer - inner) / ((r + mesh.dx[0]) ** 3 - r ** 3))[None, None, :]
    m = (np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES
    axes = []
    for a in range(3):
        if a < mesh.ndim:  # sample points of each cell along this axis: [cell, point]
            axes.append(mesh.xmin[a] + (axis_index[a][:, None] + m[None, :]) * mesh.dx[a]
                        - region.centre[a])
        else:
            axes.append(np.zeros((1, 1)))
    x, y, z = axes
    xy = y[:, None, :, None] ** 2 + x[None, :, None, :] ** 2  # [j, i, point, point]
    fraction = np.empty((z.shape[0], y.shape[0], x.shape[0]))
    for k, zk in enumerate(z):  # a plane at a time: a large sphere has many samples
        inside = xy[:, :, None, :, :] < region.radius ** 2 - zk[None, None, :, None, None] ** 2
        fraction[k] = inside.sum(axis=(2, 3, 4)) / inside[0, 0].size
    return fraction


def _covering_cells(mesh, region):
    """Global index ranges (start, stop) per axis of the cells the sphere can touch."""
    ranges = []
    for a in range(3):
        if a >= mesh.ndim:
            ranges.append((0, 1))
            continue
        lo = int(np.floor((region.centre[a] - region.radius - mesh.xmin[a]) / mesh.dx[a])) - 1
        hi = int(np.ceil((region.centre[a] + region.radius - mesh.xmin[a]) / mesh.dx[a])) + 1
        ranges.append((max(lo, 0), min(max(hi, 0), mesh.nx[a])))
    return ranges


class Injection(SourceTerm):
    """The regions of a problem as one unsplit source term."""

    budget_names = ("injected_mass", "injected_energy")

    def __init__(self, regions, mesh, scalars=()):
        self.regions = list(regions)
        self.mesh = mesh
        self.scalars = tuple(scalars)
        for region in self.regions:
            if mesh.geometry == "spherical" and region.centre[0] != 0.0:
                raise ValueError("injection region: in spherical symmetry the centre is r = 0")
            region.check(self.scalars)
        self._weights = {}

    def _block_weights(self, block):
        """Per region: (index box in the block, weight per volume, radial unit vector),
        weights summing to 1 over the whole grid (the same bits on every rank)."""
        if block.gid in self._weights:
            return self._weights[block.gid]
        mesh, out = self.mesh, []
        for region in self.regions:
            ranges = _covering_cells(mesh, region)
            fraction = _inside_fraction(mesh, region, [np.arange(*r, dtype=np.float64)
                                                       for r in ranges])
            # volume inside the sphere, summed over the global cells in one fixed order
            if mesh.geometry == "spherical":
                r = mesh.xmin[0] + np.arange(*ranges[0]) * mesh.dx[0]
                volume = np.sum(fraction[0, 0] * 4.0 * np.pi / 3.0
                                * ((r + mesh.dx[0]) ** 3 - r ** 3))
            else:
                volume = np.sum(fraction) * mesh.cell_volume
            if not volume > 0.0:
                raise ValueError(f"injection region at {region.centre} lies outside the grid")
            # this block's part of the covering box
            local = []
            for a, (start, stop) in enumerate(ranges):
                lo = max(start, block.left_index[a])
                hi = min(stop, block.left_index[a] + block.nx[a])
                local.append((lo, hi))
            if any(hi <= lo for lo, hi in local):
                out.append(None)
                continue
            box = tuple(slice(local[a][0] - block.left_index[a] + block.ng[a],
                              local[a][1] - block.left_index[a] + block.ng[a])
                        for a in (2, 1, 0))
            sub = tuple(slice(local[a][0] - ranges[a][0], local[a][1] - ranges[a][0])
                        for a in (2, 1, 0))
            weight = fraction[sub] / volume
            shapes = ((1, 1, -1), (1, -1, 1), (-1, 1, 1))
            dx = [(block.centres[a][box[2 - a]].reshape(shapes[a]) - region.centre[a])
                  if a < mesh.ndim else np.zeros((1, 1, 1)) for a in range(3)]
            dist = np.sqrt(dx[0] ** 2 + dx[1] ** 2 + dx[2] ** 2)
            rhat = [np.where(dist > 0.0, d / np.where(dist > 0.0, dist, 1.0), 0.0)
                    * np.ones_like(weight) for d in dx]
            out.append((box, weight, rhat))
        self._weights[block.gid] = out
        return out

    def timestep(self, w, block, gamma):
        """Injected gas mixes towards the specific energy edot/mdot, so its signal speed
        is at most v_w + sqrt(gamma (gamma - 1) (edot/mdot - v_w^2/2)): the step must
        resolve it from the first cycle on, when the gas around may still be cold.
        Energy without mass may at most double a cell's internal energy per step."""
        dt = math.inf
        for region, data in zip(self.regions, self._block_weights(block)):
            if data is None:
                continue
            dx = min(block.dx[a] for a in range(3) if block.ng[a] > 0)
            if region.mdot > 0.0:
                thermal = region.edot / region.mdot - 0.5 * region.wind_speed ** 2
                speed = region.wind_speed + math.sqrt(gamma * (gamma - 1.0) * max(thermal, 0.0))
                if speed > 0.0:
                    dt = min(dt, dx / speed)
            elif region.edot > 0.0:
                box, weight, _ = data
                heating = region.edot * weight
                eint = w[(4,) + box] / (gamma - 1.0)
                dt = min(dt, float(np.min(np.where(heating > 0.0, eint / np.where(
                    heating > 0.0, heating, 1.0), math.inf))))
        return dt

    def apply(self, w, u, block, t, dt, mass_flux):
        for region, data in zip(self.regions, self._block_weights(block)):
            if data is None:
                continue
            box, weight, rhat = data
            mass = dt * region.mdot * weight
            u[(0,) + box] += mass
            u[(4,) + box] += dt * region.edot * weight
            if region.wind_speed > 0.0:
                for a in range(3):
                    u[(1 + a,) + box] += mass * region.wind_speed * rhat[a]
            if region.scalar is not None:
                u[(5 + self.scalars.index(region.scalar),) + box] += mass

    def budget(self, block, dt):
        return {"injected_mass": dt * sum(r.mdot for r in self.regions),
                "injected_energy": dt * sum(r.edot for r in self.regions)}
