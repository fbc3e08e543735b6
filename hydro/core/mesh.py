"""The global uniform grid and the blocks it is cut into.

Arrays are C-ordered ``[var, k, j, i]`` (x fastest).  A 1D or 2D run is the
3D code with singleton axes: an inactive dimension has one cell and no ghost
zones, so every kernel loops over three axes and one kernel serves all
dimensionalities.  Each MPI rank holds one block (``hydro.core.parallel`` cuts the
grid); a block carries its global index offset, so kernels never need to
know about the decomposition.

Geometry: Cartesian in 1, 2 or 3D, or spherical symmetry in 1D (x is the
radius r).  The finite-volume update only needs, per face, its area over the
volume of the cell on either side (``face_factors``), and the cell volumes
for totals; a spherical cell [r-, r+] has volume 4 pi (r+^3 - r-^3) / 3 and
its faces 4 pi r^2 (e.g. Mignone 2014, J. Comput. Phys. 270, 784, sec. 2).
"""

import math

from dataclasses import dataclass, field

import numpy as np


def centres(xmin, xmax, n, k):
    """Centres of cells k (global indices, ghosts below 0 or from n on) of n cells on
    [xmin, xmax], measured from the middle: mid + (k + 1/2 - n/2) dx.  Cells mirrored
    about the middle get offsets of exactly opposite sign, so a domain symmetric about
    0 has exactly antisymmetric centres (xmin + (k + 1/2) dx misses by an ulp, which a
    limiter's branch at a symmetric extremum turned into a 1e-7 asymmetry of a
    mirror-symmetric phase-space run)."""
    return 0.5 * (xmin + xmax) + (np.asarray(k) + 0.5 - 0.5 * n) * ((xmax - xmin) / n)


@dataclass
class Block:
    """A rectangular piece of the grid with ghost zones.

    ``left_index`` is the global (x, y, z) index of the first active cell,
    ``nx`` the active cells per axis (x, y, z), ``ng`` the ghost layers per
    axis (zero on inactive axes).
    """

    left_index: tuple
    nx: tuple
    ng: tuple
    dx: tuple
    xmin: tuple  # domain's lower corner, to place cell centres
    gid: int = 0
    geometry: str = "cartesian"  # or "spherical" (1D, x = r)
    xmax: tuple = None  # domain's upper corner (then ``centres`` places the cells)
    centres: list = field(init=False)

    def __post_init__(self):
        self._face_factors = {}
        self.centres = [self._centres(a) for a in range(3)]

    def _centres(self, axis):
        """Cell centres along one axis, ghosts included (``centres``; without the
        domain's upper corner, xmin + (k + 1/2) dx)."""
        k = np.arange(-self.ng[axis], self.nx[axis] + self.ng[axis]) + self.left_index[axis]
        if self.xmax is None:
            return self.xmin[axis] + (k + 0.5) * self.dx[axis]
        n = round((self.xmax[axis] - self.xmin[axis]) / self.dx[axis])
        return centres(self.xmin[axis], self.xmax[axis], n, k)

    @property
    def shape(self):
        """Shape (nz, ny, nx) of a field including ghost zones."""
        return tuple(self.nx[a] + 2 * self.ng[a] for a in (2, 1, 0))

    @property
    def active(self):
        """Slices (k, j, i) selecting the active cells of a field."""
        return tuple(slice(self.ng[a], self.ng[a] + self.nx[a]) for a in (2, 1, 0))

    @property
    def bounds(self):
        """Active index ranges (ks, ke, js, je, is, ie) for the kernels (end exclusive)."""
        b = []
        for a in (2, 1, 0):
            b += [self.ng[a], self.ng[a] + self.nx[a]]
        return np.array(b, dtype=np.int64)

    @property
    def ncells(self):
        return self.nx[0] * self.nx[1] * self.nx[2]

    def _faces(self, axis):
        """Face coordinates along ``axis``, ghosts included (one more than cells)."""
        c = self.centres[axis]
        return np.append(c - 0.5 * self.dx[axis], c[-1] + 0.5 * self.dx[axis])

    def cell_volumes(self):
        """Cell volumes, broadcastable to a field's [k, j, i] shape (ghosts included)."""
        if self.geometry == "spherical":
            r = self._faces(0)
            return (4.0 * math.pi / 3.0 * np.abs(r[1:] ** 3 - r[:-1] ** 3))[None, None, :]
        return np.full((1, 1, 1), self.dx[0] * self.dx[1] * self.dx[2])

    def face_factors(self, axis):
        """(left, right): area of the face on the low side of cell c along ``axis``
        over the volume of cell c - 1 and of cell c, for every c (ghosts included)."""
        if axis not in self._face_factors:
            if self.geometry == "spherical":
                area = 4.0 * math.pi * self._faces(0)[:-1] ** 2
                volume = self.cell_volumes()[0, 0]
                factors = np.append(0.0, area[1:] / volume[:-1]), area / volume
            else:
                inverse = np.full(self.nx[axis] + 2 * self.ng[axis], 1.0 / self.dx[axis])
                factors = inverse, inverse
            self._face_factors[axis] = factors
        return self._face_factors[axis]

    def coordinates(self, ghosts=False):
        """Cell-centre coordinates (x, y, z) broadcastable to a field's [k, j, i] shape."""
        x, y, z = (c if ghosts else c[self.ng[a]:self.ng[a] + self.nx[a]]
                   for a, c in enumerate(self.centres))
        return x[None, None, :], y[None, :, None], z[:, None, None]


class Mesh:
    """The global grid: cells per axis, extent, spacing and ghost layers per axis."""

    def __init__(self, nx, xmin, xmax, nghost, geometry="cartesian"):
        self.ndim = len(nx)
        self.geometry = geometry
        self.nx = tuple(nx) + (1,) * (3 - self.ndim)
        self.xmin = tuple(float(v) for v in xmin) + (0.0,) * (3 - self.ndim)
        self.xmax = tuple(float(v) for v in xmax) + (1.0,) * (3 - self.ndim)
        self.dx = tuple((self.xmax[a] - self.xmin[a]) / self.nx[a] for a in range(3))
        self.ng = tuple(nghost if a < self.ndim else 0 for a in range(3))

    @property
    def ncells(self):
        return self.nx[0] * self.nx[1] * self.nx[2]


    @property
    def cell_volume(self):
        """Volume of one cell of a Cartesian grid."""
        return self.dx[0] * self.dx[1] * self.dx[2]

    def global_centres(self, axis):
        """Cell-centre coordinates of the whole domain along one axis (``centres``)."""
        return centres(self.xmin[axis], self.xmax[axis], self.nx[axis],
                       np.arange(self.nx[axis]))
