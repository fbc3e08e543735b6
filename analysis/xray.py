"""Synthetic X-ray observations of hydro snapshots: band maps, FITS, light curves, spectra.

Usage::

    hydro xray SNAPSHOT.h5 [more ...] --band 2 8 [--band 0.5 2 ...]
         [--axis x|y|z | --normal NX NY NZ]
         [--width 20pc] [--resolution 512] [--nh 1e23] [--absorption tbabs|wabs|none]
         [--distance 8kpc] [--sky-center 266.4168 -29.0078]
         [--metallicity 1.0 | --metallicity ejecta=3,rest=1] [--split ejecta]
         [--region FILE.reg ...] [--lightcurve] [--spectrum]
         [--table apec_emissivity_v3.h5] [--out DIR] [--ignore-outside]

From a script, :func:`observe` does what the command does (files), and
:func:`project` returns the maps of one snapshot or yt dataset (numbers, no
files)::

    import yt, unyt
    from hydro.analysis import xray
    ds = yt.load("out/snr/snr.00010.h5")
    maps = xray.project(ds, xray.Options(bands=[(2, 8)], nh=1e23, normal=(1, 1, 0),
                                         width=20 * unyt.pc, distance="8kpc"))
    image = maps.images["total", (2.0, 8.0), "abs_energy"]  # erg/s/cm^2/arcsec^2 [y, x]

What is computed (issue 17)
---------------------------
Snapshots are read with ``yt.load`` (3D, physical units, a ``temperature``
field in K) and the run's own hydrogen fraction X (``emissivity.run_composition``):
n_e = (1 + X) rho / (2 m_H), n_H = X rho / m_H. For a band [E1, E2] and an
emissivity table with bins k (edges E_k, per n_e n_H: primordial P_k(T) and
solar-metal M_k(T), erg cm^3 s^-1 keV^-1) the cell emissivity is

    eps = n_e n_H sum_k w_k [P_k(T) + Z M_k(T)]        (erg s^-1 cm^-3)

with w_k = overlap of bin k with the band (keV) for the unabsorbed band,
w_k = overlap x t_k for the absorbed one, t_k = <exp(-N_H sigma(E))> over the
bin (``absorption.bin_transmission``), and w_k / (E_mid,k keV) for photons.
A uniform foreground commutes with the projection, so these band sums are
tabulated once per band and N_H; each is interpolated linearly in log T of its
log, as ``EmissivityTable.band`` does (the unabsorbed sums *are* its sums).
Interpolating the log of an absorbed band sum differs from summing the
log-interpolated bins (``EmissivityTable.spectrum``) at second order in the
table's step: measured 2e-6 (0.5-2 keV) and 2e-5 (2-8 keV) at N_H = 3e22 on a
0.01 dex table; it goes as the step squared (about 6 times less on the built-in
0.004 dex table).
Temperatures outside the table are refused (or, with ``--ignore-outside``,
left out and counted), never extrapolated.

Projection along a grid axis: the column C = sum_cells eps dl (erg s^-1 cm^-2)
is put onto the square pixel grid by the exact overlap of cell and pixel
areas (a separable, conservative rebinning: L_pix = O_a^T C O_b, with O the
1D overlap lengths), so the map's luminosity equals that of the gas inside
the map's window to round-off. For an optically thin source at distance d,
the surface brightness (the transfer equation without absorption, I = int
eps dl / 4 pi per steradian, Rybicki & Lightman 1979, ch. 1) is

    I = L_pix / (4 pi d^2 Omega_pix),   Omega_pix = (pixel size / d)^2,

in erg s^-1 cm^-2 arcsec^-2 (photons likewise), and sum I Omega_pix 4 pi d^2
= L (small angles: the map's pixel scale is pixel size / d in radians).
Along any other line of sight (``--normal``) each cell's luminosity is cut
into sub-cell parts spread bilinearly onto the pixels (:class:`OffAxis`):
also conservative, smoothed by up to a pixel.

``--split SCALAR`` (passive scalar x): eps is linear in Z, so with the
mass-weighted mixture Z = x Z_1 + (1 - x) Z_2 the emission splits exactly
into eps_1 = x n_e n_H (P + Z_1 M) and eps_2 = (1 - x) n_e n_H (P + Z_2 M),
eps_1 + eps_2 = eps.

Spectra (``--spectrum``): the emission measure n_e n_H dV of each cell
(times the fraction of its light that falls in the map or a region: the
transpose of the projection) is deposited,
linearly in log T, onto a grid SPECTRUM_SUBNODES times finer than the
table's; the table is interpolated at those nodes as ``band`` does. The
deposit differs from evaluating every cell at its own temperature by about
(a / SPECTRUM_SUBNODES)^2 / 8 per bin, a = ln of the ratio of neighbouring
table nodes (1e-5 for E/kT ~ 10 on the built-in table).

Outputs (in ``--out``, default the first snapshot's directory), per snapshot
``<stem>`` and band ``<b>`` (e.g. ``2-8keV``):
``<stem>_xray_<b>.png`` (absorbed beside unabsorbed), ``<stem>_xray_<b>.fits``
(primary HDU: absorbed energy surface brightness; extensions UNABS_ENERGY,
ABS_PHOTON, UNABS_PHOTON, and per part with ``--split``), with ``--spectrum``
``<stem>_xray_spectrum.ecsv`` and ``.png``; per run ``<run>_xray.ecsv`` and
with ``--lightcurve`` ``<run>_xray_lightcurve.png``.

Under ``mpiexec -n N`` the snapshots are dealt out among the ranks (each
snapshot is computed by one rank exactly as in a serial run, so every file is
the same); rank 0 writes the run's table.

Bad input (a missing or non-hydro file, a band outside the table or with
E1 >= E2, an unreadable region file, an unknown ``--split`` scalar, a negative
N_H or distance, temperatures outside the table) gives one line on stderr and
exit status 2 before anything is written.
"""

import argparse
import math
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import absorption
from . import emissivity as em

KEV = em.KEV  # erg
PC = 3.0856775809623245e18  # cm, unyt's parsec: --width 10pc is what yt calls 10 pc
YEAR = 3.15576e7  # s (Julian year)
ARCSEC_PER_RAD = 180.0 * 3600.0 / math.pi
LENGTH_UNITS = {"cm": 1.0, "m": 100.0, "km": 1e5, "au": 1.495978707e13, "pc": PC,
                "kpc": 1e3 * PC, "mpc": 1e6 * PC}
PLANE_AXES = {0: (1, 2), 1: (2, 0), 2: (0, 1)}
"""Image x and y axes for a projection along x, y, z (yt's convention)."""
AXIS_NAMES = "xyz"
SPECTRUM_SUBNODES = 8
"""Spectrum deposit nodes per table interval in log T (module docstring)."""
OFFAXIS_PARTS_PER_PIXEL = 2
"""Off-axis maps cut the cells into parts at most 1 / this many pixels apart ..."""
OFFAXIS_MAX_PARTS = 4
"""... but into at most this many along each edge (the cost goes as its cube): with
pixels more than 2 times finer than the cells the map shows the cells, smoothed."""
KINDS = ("abs_energy", "unabs_energy", "abs_photon", "unabs_photon")


class XrayInputError(ValueError):
    """Bad input found before anything is written (exit status 2)."""


# --------------------------------------------------------------------------- options

@dataclass
class Options:
    """Everything :func:`observe` and :func:`project` need besides the snapshots.

    ``bands``: list of (E1, E2) keV; ``axis``: 0, 1, 2; ``width``: map side in cm
    (None: the larger extent of the domain across the line of sight);
    ``resolution``: pixels per side; ``nh``: cm^-2; ``model``: absorption model;
    ``distance``: cm; ``sky_center``: (RA, Dec) degrees; ``metallicity``: Zsun, a float
    or with ``split`` a dict {split: Z1, "rest": Z2}; ``split``: scalar name or None;
    ``regions``: DS9 file paths; ``table``: emissivity table path or None (built-in);
    ``normal``: a line of sight (nx, ny, nz) instead of ``axis`` (:class:`OffAxis`).
    """
    bands: list
    axis: int = 2
    width: float = None
    resolution: int = 512
    nh: float = 0.0
    model: str = absorption.DEFAULT_MODEL
    distance: float = 8e3 * PC
    sky_center: tuple = (0.0, 0.0)
    metallicity: object = 1.0
    split: str = None
    regions: list = field(default_factory=list)
    lightcurve: bool = False
    spectrum: bool = False
    table: str = None
    out: str = None
    ignore_outside: bool = False
    normal: tuple = None

    def __post_init__(self):
        """Lengths may be given as text (``"20pc"``) or quantities (``20 * unyt.pc``)."""
        for name in ("width", "distance"):
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, parse_length(value, name))
            elif hasattr(value, "to_value"):
                setattr(self, name, float(value.to_value("cm")))
        self.bands = [tuple(float(e) for e in band) for band in self.bands]


def parse_length(text, name):
    """Length in cm from text such as ``20pc``, ``8 kpc`` or ``1e20`` (cm)."""
    match = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([A-Za-z]*)\s*", str(text))
    unit = match.group(2).lower() if match else ""
    if not match or unit not in LENGTH_UNITS and unit != "":
        raise XrayInputError(f"{name}: cannot read {text!r} as a length "
                             f"(a number and one of {', '.join(LENGTH_UNITS)})")
    try:
        value = float(match.group(1)) * LENGTH_UNITS[unit or "cm"]
    except ValueError:
        raise XrayInputError(f"{name}: cannot read {text!r} as a length") from None
    if not math.isfinite(value) or value <= 0.0:
        raise XrayInputError(f"{name} must be positive, got {text!r}")
    return value


def parse_metallicity(text, split):
    """``--metallicity``: a float (Zsun), or ``part=Z,rest=Z`` naming the ``--split``
    scalar and ``rest``."""
    text = str(text)
    if "=" not in text:
        try:
            value = float(text)
        except ValueError:
            raise XrayInputError(f"--metallicity: cannot read {text!r}") from None
        if not math.isfinite(value) or value < 0:
            raise XrayInputError(f"--metallicity must be >= 0, got {text!r}")
        return value
    if split is None:
        raise XrayInputError(f"--metallicity {text}: per-part values need --split")
    values = {}
    for item in text.split(","):
        key, _, number = item.partition("=")
        try:
            values[key.strip()] = float(number)
        except ValueError:
            raise XrayInputError(f"--metallicity: cannot read {item!r}") from None
    if set(values) != {split, "rest"} or any(not (v >= 0 and math.isfinite(v))
                                             for v in values.values()):
        raise XrayInputError(f"--metallicity {text}: give {split}=Z,rest=Z with Z >= 0")
    return values


def sight_label(options):
    """``x``, ``y``, ``z`` or ``normal (nx, ny, nz)`` (normalised; headers, titles)."""
    if options.normal is None:
        return AXIS_NAMES[options.axis]
    n = sight_basis(options.normal)[2]
    return f"normal ({n[0]:.6g}, {n[1]:.6g}, {n[2]:.6g})"


def band_label(band):
    """``(0.5, 2.0)`` -> ``"0.5-2keV"`` (file names and column names)."""
    return f"{band[0]:g}-{band[1]:g}keV"


def _parts(options):
    """[(name, Z)] of the emitting parts: one ``total`` or the split and ``rest``."""
    if options.split is None:
        if isinstance(options.metallicity, dict):
            raise XrayInputError("per-part --metallicity needs --split")
        return [("total", float(options.metallicity))]
    if options.split in ("rest", "total"):
        raise XrayInputError(f"--split {options.split}: that name is taken by the parts "
                             "of the maps; rename the scalar")
    z = options.metallicity
    if not isinstance(z, dict):
        z = {options.split: float(z), "rest": float(z)}
    return [(options.split, z[options.split]), ("rest", z["rest"])]


def check_options(options, table):
    """XrayInputError for options that cannot work with this emissivity table."""
    if not options.bands:
        raise XrayInputError("give at least one --band E1 E2 (keV)")
    for band in options.bands:
        try:
            table.check_band(float(band[0]), float(band[1]))
        except ValueError as e:
            raise XrayInputError(str(e)) from None
    try:
        absorption.check_column(options.nh)
        absorption.check_model(options.model)
    except ValueError as e:
        raise XrayInputError(str(e)) from None
    for band in options.bands:
        if not (_model_covers(band[0], options.model) and _model_covers(band[1],
                                                                        options.model)):
            raise XrayInputError(f"band {band[0]:g}-{band[1]:g} keV: outside the energies "
                                 f"of the {options.model} absorption model")
    if not (options.distance > 0 and math.isfinite(options.distance)):
        raise XrayInputError(f"the distance must be positive, got {options.distance}")
    if options.width is not None and not (options.width > 0 and math.isfinite(options.width)):
        raise XrayInputError(f"the width must be positive, got {options.width}")
    if options.resolution < 1:
        raise XrayInputError(f"--resolution must be >= 1, got {options.resolution}")
    if options.normal is not None:
        sight_basis(options.normal)
    ra, dec = options.sky_center
    if not (-90.0 <= dec <= 90.0 and math.isfinite(ra)):
        raise XrayInputError("--sky-center: need RA and -90 <= Dec <= 90 degrees")
    _parts(options)


# --------------------------------------------------------------------------- band tables

def model_transmission(edges, nh, model):
    """``absorption.bin_transmission`` of the table's bins; bins outside the model's
    energies (a user's table may start below tbabs' 0.1 keV) get NaN: no band may use
    them (:func:`check_options`), and the absorbed spectra say "not known" there."""
    try:
        return absorption.bin_transmission(edges, nh, model)
    except ValueError:
        pass
    covered = np.array([_model_covers(e, model) for e in edges])
    result = np.full(edges.size - 1, np.nan)
    inside = np.nonzero(covered[:-1] & covered[1:])[0]
    if inside.size:
        lo, hi = inside[0], inside[-1] + 1
        result[lo:hi] = absorption.bin_transmission(edges[lo:hi + 1], nh, model)
    return result


def _model_covers(energy, model):
    try:
        absorption.cross_section(np.float64(energy), model)
    except ValueError:
        return False
    return True


class BandTables:
    """log10 of the band sums sum_k w_k P_k(T) and sum_k w_k M_k(T) on the table's log T
    nodes, for each band and kind (absorbed or not, energy or photons; weights w_k in the
    module docstring), and their interpolation to cell temperatures."""

    def __init__(self, table, bands, nh, model):
        self.table = table
        edges = table.edges
        mid = 0.5 * (edges[1:] + edges[:-1])
        self.transmission = model_transmission(edges, nh, model)
        self.nodes = np.linspace(table.log_t[0], table.log_t[-1], table.log_t.size)
        self.logs = {}
        self.weights = {}
        for band in bands:
            overlap = np.clip(np.minimum(edges[1:], band[1]) - np.maximum(edges[:-1], band[0]),
                              0.0, None)
            absorbed = np.where(overlap > 0, overlap * self.transmission, 0.0)
            weights = {"unabs_energy": overlap, "abs_energy": absorbed,
                       "unabs_photon": overlap / (mid * KEV),
                       "abs_photon": absorbed / (mid * KEV)}
            for kind, w in weights.items():
                self.weights[band, kind] = w
                self.logs[band, kind] = tuple(
                    np.log10(np.maximum(values @ w, em.FLOOR))
                    for values in (table.primordial, table.metals))

    def locate(self, log_t):
        """(interval index, fraction) of each log T on the nodes (for :meth:`rate`)."""
        step = (self.nodes[-1] - self.nodes[0]) / (self.nodes.size - 1)
        position = (log_t - self.nodes[0]) / step
        i = np.clip(np.floor(position).astype(np.int64), 0, self.nodes.size - 2)
        return i, position - i

    def rate(self, band, kind, where, metallicity):
        """Band emissivity per n_e n_H (erg or photons cm^3 s^-1): P + Z M, each
        interpolated linearly in log T of its log10, as ``EmissivityTable.band``."""
        i, f = where
        p_log, m_log = self.logs[band, kind]
        p = 10.0 ** (p_log[i] + f * (p_log[i + 1] - p_log[i]))
        m = 10.0 ** (m_log[i] + f * (m_log[i + 1] - m_log[i]))
        return p + metallicity * m


# --------------------------------------------------------------------------- snapshots

def _fail_if_not_snapshot(path):
    """XrayInputError unless ``path`` is a hydro snapshot (GDF with run parameters)."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise XrayInputError(f"no such snapshot file: {path}")
    try:
        if not h5py.is_hdf5(path):
            raise XrayInputError(f"{path}: not an HDF5 file")
        with h5py.File(path, "r") as f:
            if "gridded_data_format" not in f or "hydro_restart" not in f:
                raise XrayInputError(f"{path}: not a hydro snapshot")
            fields = set(f["field_types"]) if "field_types" in f else set()
            dims = f["simulation_parameters"].attrs["dimensionality"]
    except OSError as e:
        raise XrayInputError(f"{path}: cannot read it ({e})") from None
    if int(dims) != 3:
        raise XrayInputError(f"{path}: X-ray maps need a 3D snapshot, not {int(dims)}D")
    if "temperature" not in fields:
        raise XrayInputError(f"{path}: no temperature field in K (a run without "
                             "physical units cannot be observed)")
    return fields


def check_snapshot(path, split=None, table=None, ignore_outside=False):
    """XrayInputError unless ``path`` is a 3D hydro snapshot with temperatures in K (all
    inside ``table`` unless ``ignore_outside``) and, if given, the scalar ``split``."""
    import yt

    fields = _fail_if_not_snapshot(path)
    if split is not None and split not in fields:
        raise XrayInputError(f"{path}: no scalar {split!r} to split by; the file has "
                             f"{', '.join(sorted(fields))}")
    try:
        em.run_composition(path)
    except ValueError as e:
        raise XrayInputError(str(e)) from None
    if table is None or ignore_outside:
        return
    yt.set_log_level("error")
    try:
        ds = yt.load(str(path))
        temperature = ds.covering_grid(0, ds.domain_left_edge, ds.domain_dimensions)[
            "gas", "temperature"].to_value("K")
    except Exception as e:  # anything that stops yt reading the file is a bad file
        raise XrayInputError(f"{path}: cannot read it with yt ({type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''})") from None
    try:
        table.check_temperature(temperature)
    except em.OutsideTableError as e:
        raise XrayInputError(f"{path}: {e} (--ignore-outside leaves such cells out)") \
            from None


@dataclass
class Snapshot:
    """The cells of a snapshot that the maps need, in cgs (arrays [ix, iy, iz])."""
    path: str
    time: float  # s
    left: np.ndarray  # cm (3,)
    right: np.ndarray
    dims: np.ndarray
    em: np.ndarray  # n_e n_H, cm^-6
    temperature: np.ndarray  # K
    scalar: np.ndarray  # split scalar or None
    outside: int  # cells outside the table (left out with ignore_outside)


def read_snapshot(source, split=None, table=None, ignore_outside=False):
    """:class:`Snapshot` of ``source`` (a path or a yt dataset of a hydro run)."""
    import yt

    if isinstance(source, (str, os.PathLike)):
        check_snapshot(source, split)
        yt.set_log_level("error")
        ds = yt.load(str(source))
    else:
        ds = source
    composition = em.run_composition(ds)
    grid = ds.covering_grid(0, ds.domain_left_edge, ds.domain_dimensions)
    rho = grid["gas", "density"].to_value("g/cm**3")
    temperature = grid["gas", "temperature"].to_value("K")
    n_e, n_h = em.number_densities(rho, composition.hydrogen)
    measure = n_e * n_h
    outside = 0
    if table is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t = np.log10(temperature)
        bad = ~((log_t >= table.log_t[0]) & (log_t <= table.log_t[-1]))
        outside = int(bad.sum())
        if outside and not ignore_outside:
            try:
                table.check_temperature(temperature)
            except em.OutsideTableError as e:
                raise XrayInputError(f"{ds.parameter_filename}: {e} (--ignore-outside "
                                     "leaves such cells out)") from None
        if outside:
            measure = np.where(bad, 0.0, measure)
            temperature = np.where(bad, 10.0 ** table.log_t[0], temperature)
    scalar = None
    if split is not None:
        scalar = np.clip(np.asarray(grid["gdf", split], dtype=np.float64), 0.0, 1.0)
    return Snapshot(str(ds.parameter_filename), float(ds.current_time.to_value("s")),
                    ds.domain_left_edge.to_value("cm"), ds.domain_right_edge.to_value("cm"),
                    np.asarray(ds.domain_dimensions), measure, temperature, scalar, outside)


# --------------------------------------------------------------------------- projection

def overlap_matrix(cell_edges, pixel_edges):
    """O[i, p] = length of cell i inside pixel p (same units as the edges)."""
    hi = np.minimum(cell_edges[1:, None], pixel_edges[None, 1:])
    lo = np.maximum(cell_edges[:-1, None], pixel_edges[None, :-1])
    return np.clip(hi - lo, 0.0, None)


@dataclass
class Geometry:
    """The pixel grid: ``pixel`` size (cm), ``n`` pixels a side, the overlap matrices of
    the two image axes (``oa``: cells along image x, ``ob``: along image y), the cell
    length along the line of sight ``dl`` and the cell cross-section ``cell_area``."""
    axis: int
    pixel: float
    n: int
    oa: np.ndarray
    ob: np.ndarray
    dl: float
    cell_area: float
    width: float

    def column(self, eps):
        """sum of eps dl along the line of sight, [cells along image x, along image y]."""
        column = eps.sum(axis=self.axis) * self.dl
        return column.T if PLANE_AXES[self.axis][0] > PLANE_AXES[self.axis][1] else column

    def spread(self, column):
        """A [image x, image y] cell-column array as [ix, iy, iz] (broadcasting)."""
        if PLANE_AXES[self.axis][0] > PLANE_AXES[self.axis][1]:
            column = column.T
        return np.expand_dims(column, self.axis)

    def rebin(self, column):
        """Luminosity per pixel [ix_img, iy_img] of a column map (per unit area)."""
        return self.oa.T @ column @ self.ob

    def column_fraction(self, mask_xy):
        """Fraction of each cell column inside a pixel mask [ix_img, iy_img] (weights in
        [0, 1] per pixel): O_a m O_b^T / cell area."""
        return self.oa @ mask_xy @ self.ob.T / self.cell_area

    @property
    def cell_volume(self):
        return self.dl * self.cell_area

    def cell_fraction(self, mask_xy):
        """:meth:`column_fraction` broadcasting against the cells [ix, iy, iz]."""
        return self.spread(self.column_fraction(mask_xy))

    def project(self, cell_arrays):
        """Luminosity per pixel [ix_img, iy_img] of each per-volume cell array."""
        return [self.rebin(self.column(eps)) for eps in cell_arrays]


def geometry(snapshot, axis, width, resolution):
    """:class:`Geometry` of a square map of side ``width`` cm (None: the larger domain
    extent across the line of sight) centred on the domain centre."""
    a, b = PLANE_AXES[axis]
    left, right, dims = snapshot.left, snapshot.right, snapshot.dims
    centre = 0.5 * (left + right)
    if width is None:
        width = float(max(right[a] - left[a], right[b] - left[b]))
    pixel = width / resolution
    offsets = (np.arange(resolution + 1) - 0.5 * resolution) * pixel
    matrices = []
    for ax in (a, b):
        cells = left[ax] + (right[ax] - left[ax]) * np.arange(dims[ax] + 1) / dims[ax]
        matrices.append(overlap_matrix(cells - centre[ax], offsets))
    cell = (right - left) / dims
    return Geometry(axis, pixel, resolution, matrices[0], matrices[1], float(cell[axis]),
                    float(cell[a] * cell[b]), width)


def sight_basis(normal):
    """(e_x, e_y, n) of a line of sight ``normal``: n normalised, e_y the projection of
    z on the sky plane (of y if n is along z), e_x = e_y x n, so that e_x x e_y = n (for
    n = z the map is the plane (x, y), as along --axis z)."""
    n = np.asarray(normal, dtype=np.float64)
    length = float(np.linalg.norm(n)) if n.shape == (3,) else 0.0
    if not (math.isfinite(length) and length > 0.0):
        raise XrayInputError(f"--normal needs three numbers, not all zero: {normal}")
    n = n / length
    north = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 1.0 - 1e-9 else np.array([0.0, 1.0, 0.0])
    e_y = north - (north @ n) * n
    e_y /= np.linalg.norm(e_y)
    return np.cross(e_y, n), e_y, n


@dataclass
class OffAxis:
    """Projection along any line of sight ``normal``: each cell is cut into ``sub``^3
    equal parts whose luminosity eps dV / sub^3 is spread over the 4 nearest pixel
    centres by bilinear (cloud-in-cell) weights, at the part's position projected on
    (e_x, e_y) (:func:`sight_basis`). The weights of a part sum to 1, so the map's total
    is the luminosity of the gas it covers (to round-off where the map covers the box's
    whole shadow; the default width does). ``sub`` = ceil(2 longest cell edge / pixel),
    at most OFFAXIS_MAX_PARTS, so the parts are no farther apart than half a pixel
    (where the cells are at most twice as large as the pixels). Costs sub^3 x 4 scatter-adds per cell
    and per map (see the README's timings); the maps are smoothed by up to one pixel."""
    normal: np.ndarray
    e_x: np.ndarray
    e_y: np.ndarray
    pixel: float
    n: int
    width: float
    u: np.ndarray  # cell centres on e_x, e_y, in pixels from the map's lower-left corner
    v: np.ndarray
    shifts: list  # (du, dv) of the sub-cell parts, pixels
    cell_volume: float
    shape: tuple
    axis = None

    def _spreading(self):
        """For each part shift, the sparse matrix S [cell, pixel] of the bilinear weights
        of the part on the 4 pixel centres around it (weights outside the map dropped):
        4 entries a row, built directly in CSR form."""
        from scipy.sparse import csr_matrix

        n = self.n
        count = self.u.size
        indptr = np.arange(0, 4 * count + 1, 4)
        for du, dv in self.shifts:
            x = self.u + (du - 0.5)
            y = self.v + (dv - 0.5)
            i = np.floor(x).astype(np.int64)
            j = np.floor(y).astype(np.int64)
            fx, fy = x - i, y - j
            index = np.empty((count, 4), dtype=np.int64)
            weight = np.empty((count, 4))
            for k, (di, dj, w) in enumerate(((0, 0, (1 - fx) * (1 - fy)),
                                             (1, 0, fx * (1 - fy)),
                                             (0, 1, (1 - fx) * fy), (1, 1, fx * fy))):
                ii, jj = i + di, j + dj
                inside = (ii >= 0) & (ii < n) & (jj >= 0) & (jj < n)
                index[:, k] = np.where(inside, ii * n + jj, 0)
                weight[:, k] = np.where(inside, w, 0.0)
            yield csr_matrix((weight.ravel(), index.ravel(), indptr), shape=(count, n * n))

    def project(self, cell_arrays):
        """Luminosity per pixel [ix_img, iy_img] of each per-volume cell array: sum over
        the part shifts of S^T (eps dV / sub^3), all the arrays at once."""
        scale = self.cell_volume / len(self.shifts)
        values = np.stack([np.ravel(eps) for eps in cell_arrays], axis=1) * scale
        out = np.zeros((self.n * self.n, values.shape[1]))
        for spread in self._spreading():
            out += spread.T @ values
        return [out[:, k].reshape(self.n, self.n) for k in range(values.shape[1])]

    def cell_fraction(self, mask_xy):
        """Fraction of each cell's luminosity that lands on the mask [ix_img, iy_img]
        (the transpose of :meth:`project`: mean over the shifts of S m)."""
        mask = np.ravel(mask_xy)
        fraction = np.zeros(self.u.size)
        for spread in self._spreading():
            fraction += spread @ mask
        return (fraction / len(self.shifts)).reshape(self.shape)


def off_axis(snapshot, normal, width, resolution):
    """:class:`OffAxis` map of side ``width`` cm (None: the box's whole shadow) centred
    on the domain centre."""
    e_x, e_y, n = sight_basis(normal)
    left, right, dims = snapshot.left, snapshot.right, snapshot.dims
    centre = 0.5 * (left + right)
    cell = (right - left) / dims
    if width is None:
        corners = np.array([[lo if bit == 0 else hi for bit, lo, hi in
                             zip(((k >> 0) & 1, (k >> 1) & 1, (k >> 2) & 1), left, right)]
                            for k in range(8)]) - centre
        width = 2.0 * float(np.max(np.abs(np.concatenate([corners @ e_x, corners @ e_y]))))
        width *= 1.0 + 2.0 / resolution  # a pixel of margin on each side for the spreading
    pixel = width / resolution
    axes = [left[a] + (np.arange(dims[a]) + 0.5) * cell[a] - centre[a] for a in range(3)]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    u = (x * e_x[0] + y * e_x[1] + z * e_x[2]) / pixel + 0.5 * resolution
    v = (x * e_y[0] + y * e_y[1] + z * e_y[2]) / pixel + 0.5 * resolution
    sub = min(OFFAXIS_MAX_PARTS,
              max(1, math.ceil(OFFAXIS_PARTS_PER_PIXEL * float(cell.max()) / pixel - 1e-9)))
    parts = (np.arange(sub) + 0.5) / sub - 0.5
    shifts = [(float(np.array([a, b, c]) * cell @ e_x) / pixel,
               float(np.array([a, b, c]) * cell @ e_y) / pixel)
              for a in parts for b in parts for c in parts]
    return OffAxis(n, e_x, e_y, pixel, resolution, width, u.ravel(), v.ravel(), shifts,
                   float(np.prod(cell)), tuple(int(d) for d in dims))


@dataclass
class Maps:
    """The maps of one snapshot: ``images[part, band, kind]`` surface brightness
    [iy, ix] (erg or photons s^-1 cm^-2 arcsec^-2; parts: "total" and, with a split, its
    parts), ``luminosity[part, band]`` (unabsorbed, erg s^-1, of the gas in the map),
    ``flux[part, band]`` (absorbed, erg s^-1 cm^-2 at Earth), and what made them."""
    snapshot: Snapshot
    geometry: Geometry
    options: Options
    images: dict
    luminosity: dict
    flux: dict
    pixel_arcsec: float

    @property
    def pixel_solid_angle(self):
        """arcsec^2."""
        return self.pixel_arcsec ** 2


def _part_weights(snapshot, parts):
    """[(name, Z, weight array or None)]: a split's x and 1 - x."""
    if snapshot.scalar is None:
        return [(name, z, None) for name, z in parts]
    x = snapshot.scalar
    return [(parts[0][0], parts[0][1], x), (parts[1][0], parts[1][1], 1.0 - x)]


def project(source, options, table=None, tables=None):
    """:class:`Maps` of one snapshot (a path, a yt dataset of a hydro run, or a
    :class:`Snapshot`) for ``options`` (:class:`Options`); ``table`` an
    ``EmissivityTable`` (default: ``options.table`` or the built-in one)."""
    table = table if table is not None else em.EmissivityTable(options.table)
    if tables is None:
        check_options(options, table)
        tables = BandTables(table, [tuple(b) for b in options.bands], options.nh,
                            options.model)
    snapshot = source if isinstance(source, Snapshot) else read_snapshot(
        source, options.split, table, options.ignore_outside)
    if options.normal is None:
        geo = geometry(snapshot, options.axis, options.width, options.resolution)
    else:
        geo = off_axis(snapshot, options.normal, options.width, options.resolution)
    where = tables.locate(np.log10(snapshot.temperature))
    pixel_arcsec = geo.pixel / options.distance * ARCSEC_PER_RAD
    # I = L_pix / (4 pi d^2 Omega_pix) = L_pix / (4 pi pixel^2) per sr
    to_surface = 1.0 / (4.0 * math.pi * options.distance ** 2 * pixel_arcsec ** 2)
    images, luminosity, flux = {}, {}, {}
    parts = _part_weights(snapshot, _parts(options))

    def emissivity(band, kind, z, weight):
        eps = snapshot.em * tables.rate(band, kind, where, z)
        return eps if weight is None else eps * weight

    keys = [(name, band, kind) for band in map(tuple, options.bands) for kind in KINDS
            for name, _, _ in parts]
    if options.normal is None:  # one cell array at a time
        pixels = {key: geo.project([emissivity(key[1], key[2], z, w)])[0]
                  for key, (_, z, w) in zip(keys, parts * (len(keys) // len(parts)))}
    else:  # all at once: the spreading weights are computed once for every map
        pixels = dict(zip(keys, geo.project([emissivity(key[1], key[2], z, w) for key, (
            _, z, w) in zip(keys, parts * (len(keys) // len(parts)))])))
    for band in map(tuple, options.bands):
        for kind in KINDS:
            total = 0.0
            for name, _, _ in parts:
                if len(parts) > 1:
                    images[name, band, kind] = (pixels[name, band, kind] * to_surface).T
                total = total + pixels[name, band, kind]
            images["total", band, kind] = (total * to_surface).T
        for name in {p[0] for p in parts} | {"total"}:
            luminosity[name, band] = float(images[name, band, "unabs_energy"].sum()
                                           / to_surface)
            flux[name, band] = float(images[name, band, "abs_energy"].sum()
                                     * pixel_arcsec ** 2)
    return Maps(snapshot, geo, options, images, luminosity, flux, pixel_arcsec)


# --------------------------------------------------------------------------- WCS, regions

def celestial_wcs(maps):
    """TAN WCS of the map: reference pixel at the image centre (1-based (n+1)/2) on
    ``sky_center``, pixel scale pixel size / distance; east to the left (CDELT1 < 0)."""
    from astropy.wcs import WCS

    n = maps.geometry.n
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(maps.options.sky_center)
    wcs.wcs.crpix = [(n + 1) / 2.0, (n + 1) / 2.0]
    scale = maps.pixel_arcsec / 3600.0
    wcs.wcs.cdelt = [-scale, scale]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.radesys = "ICRS"
    return wcs


def read_regions(paths):
    """[(name, region)] from DS9 files; XrayInputError for an unreadable one. Names are
    the region's ``text`` or ``<file stem>`` (``<file stem>_<k>`` for several)."""
    from regions import Regions

    found = []
    for path in paths:
        try:
            with warnings.catch_warnings():
                # regions skips a line it cannot parse with a warning: refuse the file
                warnings.simplefilter("error")
                shapes = list(Regions.read(str(path), format="ds9"))
        except Exception as e:  # regions raises many kinds for a bad file
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise XrayInputError(f"cannot read region file {path}: {first}") from None
        if not shapes:
            raise XrayInputError(f"region file {path} holds no regions")
        stem = Path(path).stem
        for k, shape in enumerate(shapes):
            name = shape.meta.get("text") or (stem if len(shapes) == 1 else f"{stem}_{k}")
            found.append((re.sub(r"[^A-Za-z0-9_.+-]", "_", str(name)), shape))
    return found


def pixel_region(region, wcs):
    """The region in pixel coordinates of the map (sky regions through the WCS)."""
    return region.to_pixel(wcs) if hasattr(region, "to_pixel") else region


def _exact_mask(pix, shape):
    """Pixel fractions [iy, ix] inside a pixel region: exact overlap where ``regions``
    has it, 16 x 16 sub-pixels otherwise; an annulus is its outer shape less its inner."""
    from regions import (CircleAnnulusPixelRegion, CirclePixelRegion,
                         EllipseAnnulusPixelRegion, EllipsePixelRegion,
                         RectangleAnnulusPixelRegion, RectanglePixelRegion)

    if isinstance(pix, CircleAnnulusPixelRegion):
        return (_exact_mask(CirclePixelRegion(pix.center, pix.outer_radius), shape)
                - _exact_mask(CirclePixelRegion(pix.center, pix.inner_radius), shape))
    if isinstance(pix, EllipseAnnulusPixelRegion):
        return (_exact_mask(EllipsePixelRegion(pix.center, pix.outer_width, pix.outer_height,
                                               pix.angle), shape)
                - _exact_mask(EllipsePixelRegion(pix.center, pix.inner_width,
                                                 pix.inner_height, pix.angle), shape))
    if isinstance(pix, RectangleAnnulusPixelRegion):
        return (_exact_mask(RectanglePixelRegion(pix.center, pix.outer_width,
                                                 pix.outer_height, pix.angle), shape)
                - _exact_mask(RectanglePixelRegion(pix.center, pix.inner_width,
                                                   pix.inner_height, pix.angle), shape))
    try:
        mask = pix.to_mask(mode="exact")
    except (ValueError, NotImplementedError):
        mask = pix.to_mask(mode="subpixels", subpixels=16)
    image = mask.to_image(shape)
    return np.zeros(shape) if image is None else image


def region_mask(region, wcs, shape):
    """Fraction of each pixel [iy, ix] of the map inside the region (sky or pixel)."""
    return _exact_mask(pixel_region(region, wcs), shape)


def region_flux(image, mask, pixel_arcsec):
    """Sum of surface brightness x pixel solid angle x the region's pixel fractions."""
    return float((image * mask).sum() * pixel_arcsec ** 2)


# --------------------------------------------------------------------------- spectra

def spectra(maps, tables, weights):
    """Photon spectra (photons s^-1 cm^-2 keV^-1 at Earth), unabsorbed and absorbed, of the
    gas in each of ``weights`` {name: fraction of each cell (``geometry.cell_fraction``)}:
    {name: (unabsorbed, absorbed)} on the table's bins (module docstring); with a split
    also {name_part: ...} for each part."""
    snap, opts = maps.snapshot, maps.options
    table = tables.table
    nodes = tables.nodes
    step = (nodes[-1] - nodes[0]) / (nodes.size - 1) / SPECTRUM_SUBNODES
    n_sub = (nodes.size - 1) * SPECTRUM_SUBNODES + 1
    position = (np.log10(snap.temperature) - nodes[0]) / step
    s0 = np.clip(np.floor(position).astype(np.int64), 0, n_sub - 2)
    frac = (position - s0).ravel()
    s0 = s0.ravel()
    dv = maps.geometry.cell_volume
    i = np.minimum(np.arange(n_sub) // SPECTRUM_SUBNODES, nodes.size - 2)
    g = (np.arange(n_sub) - i * SPECTRUM_SUBNODES) / SPECTRUM_SUBNODES
    edges = table.edges
    photon = 1.0 / (0.5 * (edges[1:] + edges[:-1]) * KEV) / (4 * math.pi * opts.distance ** 2)
    parts = _part_weights(snap, _parts(opts))
    result = {}
    for name, column in weights.items():
        cell_weight = column * snap.em * dv
        spectrum = np.zeros(edges.size - 1)
        for part_name, z, part in parts:
            part_spectrum = np.zeros(edges.size - 1)
            w = (cell_weight * part if part is not None else
                 np.broadcast_to(cell_weight, snap.em.shape)).ravel()
            deposit = (np.bincount(s0, w * (1.0 - frac), n_sub)
                       + np.bincount(s0 + 1, w * frac, n_sub))
            used = np.nonzero(deposit)[0]
            for values, scale in ((table.primordial, 1.0), (table.metals, z)):
                logs = np.log10(np.maximum(values, em.FLOOR))
                at = 10.0 ** ((1.0 - g[used, None]) * logs[i[used]] + g[used, None]
                              * logs[i[used] + 1])
                part_spectrum += scale * (deposit[used] @ at)
            spectrum += part_spectrum
            if len(parts) > 1:
                result[f"{name}_{part_name}"] = (part_spectrum * photon,
                                                 part_spectrum * photon * tables.transmission)
        unabsorbed = spectrum * photon
        result[name] = (unabsorbed, unabsorbed * tables.transmission)
    return result


# --------------------------------------------------------------------------- writing

def _time_yr(maps):
    return maps.snapshot.time / YEAR


def _wrap(text, width=70):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def write_fits(maps, band, path, table):
    """FITS of one band: primary HDU the absorbed energy surface brightness, extensions
    UNABS_ENERGY, ABS_PHOTON, UNABS_PHOTON (and ``<KIND>_<PART>`` with a split), each with
    the celestial WCS, BUNIT and the cards of band, N_H, model, distance, time, table."""
    from astropy.io import fits

    wcs_header = celestial_wcs(maps).to_header()
    opts = maps.options
    names = sorted({key[0] for key in maps.images if key[1] == band} - {"total"})
    hdus = []
    for part in ["total"] + names:
        for kind in KINDS:
            header = fits.Header()
            header.update(wcs_header)
            unit = "erg/(s cm2 arcsec2)" if kind.endswith("energy") else "ph/(s cm2 arcsec2)"
            header["BUNIT"] = unit
            header["EMIN"] = (float(band[0]), "[keV] band lower edge")
            header["EMAX"] = (float(band[1]), "[keV] band upper edge")
            header["NH"] = (float(opts.nh), "[cm-2] foreground hydrogen column")
            header["ABSMODEL"] = (opts.model, "foreground absorption model")
            header["ABSCITE"] = absorption.CITATION[opts.model]
            header["ABSORBED"] = (kind.startswith("abs"), "foreground absorption applied")
            header["DISTANCE"] = (opts.distance / PC, "[pc] distance to the source")
            header["TIME"] = (_time_yr(maps), "[yr] snapshot time")
            header["SNAPSHOT"] = Path(maps.snapshot.path).name
            header["SIGHT"] = (sight_label(opts), "line of sight")
            header["PIXSIZE"] = (maps.geometry.pixel / PC, "[pc] pixel size")
            header["PART"] = (part, "emitting part (split by a passive scalar)")
            if opts.split is not None:
                header["SPLIT"] = opts.split
            header["OUTSIDE"] = (maps.snapshot.outside, "cells outside the table, left out")
            header["EMTABLE"] = (Path(table.path).name, "emissivity table (HISTORY: info)")
            for line in _wrap(f"Emissivity table {table.path}: {table.info}"):
                header.add_history(line)
            hdu_name = kind.upper() + ("" if part == "total" else f"_{part.upper()}")
            data = maps.images[part, band, kind].astype(np.float64)
            if not hdus:
                hdus.append(fits.PrimaryHDU(data, header))
                hdus[0].header["EXTNAME"] = hdu_name
            else:
                hdus.append(fits.ImageHDU(data, header, name=hdu_name))
    fits.HDUList(hdus).writeto(path, overwrite=True)


def _figure(width=6.4, height=4.8):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def write_png(maps, band, path, regions=(), part="total"):
    """Absorbed and unabsorbed energy surface brightness of ``part`` side by side: log
    colour scale, colour bar in erg s^-1 cm^-2 arcsec^-2, axes in pc (bottom, left) and
    arcsec offsets from the map centre (top, right), region outlines."""
    from matplotlib.colors import LogNorm
    from matplotlib.transforms import Affine2D

    opts, geo = maps.options, maps.geometry
    half_pc = 0.5 * geo.width / PC
    pc_to_arcsec = PC / opts.distance * ARCSEC_PER_RAD
    wcs = celestial_wcs(maps) if regions else None
    if opts.normal is None:
        labels = [AXIS_NAMES[a] for a in PLANE_AXES[opts.axis]]
    else:
        labels = ["e_x", "e_y"]
    fig = _figure(12.0, 5.4)
    panels = (("abs_energy", f"absorbed, N_H = {opts.nh:.3g} cm$^{{-2}}$ ({opts.model})"),
              ("unabs_energy", "unabsorbed"))
    images = [maps.images[part, band, kind] for kind, _ in panels]
    positive = np.concatenate([im[im > 0] for im in images])
    vmax = float(positive.max()) if positive.size else 1.0
    vmin = max(float(positive.min()) if positive.size else 1e-30, vmax * 1e-6)
    for column, ((kind, label), image) in enumerate(zip(panels, images)):
        ax = fig.add_subplot(1, 2, column + 1)
        shown = np.where(image > 0, image, np.nan)
        artist = ax.imshow(shown, origin="lower", extent=(-half_pc, half_pc, -half_pc, half_pc),
                           norm=LogNorm(vmin=vmin, vmax=vmax), cmap="inferno",
                           interpolation="nearest")
        ax.set_facecolor("black")
        ax.set_xlabel(f"{labels[0]} offset [pc]")
        ax.set_ylabel(f"{labels[1]} offset [pc]")
        ax.set_title(label, fontsize=10)
        top = ax.secondary_xaxis("top", functions=(lambda x: x * pc_to_arcsec,
                                                   lambda s: s / pc_to_arcsec))
        top.set_xlabel("offset [arcsec]")
        right = ax.secondary_yaxis("right", functions=(lambda y: y * pc_to_arcsec,
                                                       lambda s: s / pc_to_arcsec))
        right.set_ylabel("offset [arcsec]")
        for name, region in regions:
            pix = pixel_region(region, wcs)
            outline = pix.as_artist(facecolor="none", edgecolor="cyan", lw=1.2)
            to_pc = (Affine2D().translate(0.5, 0.5).scale(geo.pixel / PC)
                     .translate(-half_pc, -half_pc))
            outline.set_transform(to_pc + ax.transData)
            ax.add_artist(outline)
        fig.colorbar(artist, ax=ax, shrink=0.85,
                     label="surface brightness [erg s$^{-1}$ cm$^{-2}$ arcsec$^{-2}$]")
    what = {"total": "", opts.split: f"{opts.split} part   ",
            "rest": f"rest (1 - {opts.split})   "}[part]
    fig.suptitle(f"{what}{Path(maps.snapshot.path).name}   t = {_time_yr(maps):.5g} yr   "
                 f"{band[0]:g}-{band[1]:g} keV   N_H = {opts.nh:.3g} cm$^{{-2}}$   "
                 f"d = {opts.distance / PC / 1e3:.4g} kpc")
    fig.savefig(path, dpi=100)


def write_spectrum(maps, edges, result, path_table, path_png):
    """ECSV of the photon spectra on the table's bins ``edges`` (keV), an unabsorbed and
    an absorbed column per region, and their PNG."""
    from astropy.table import Table

    table = Table()
    table["e_lo"] = edges[:-1]
    table["e_lo"].unit = "keV"
    table["e_hi"] = edges[1:]
    table["e_hi"].unit = "keV"
    for name, (unabsorbed, absorbed) in result.items():
        for label, values in (("unabs", unabsorbed), ("abs", absorbed)):
            table[f"{label}_{name}"] = values
            table[f"{label}_{name}"].unit = "ph / (s cm2 keV)"
    table.meta.update(_meta(maps))
    table.write(path_table, format="ascii.ecsv", overwrite=True)
    fig = _figure()
    ax = fig.add_subplot()
    mid = 0.5 * (edges[1:] + edges[:-1])
    for name, (unabsorbed, absorbed) in result.items():
        line, = ax.loglog(mid, absorbed, label=f"{name}, absorbed")
        ax.loglog(mid, unabsorbed, ls="--", color=line.get_color(), label=f"{name}, unabsorbed")
    ax.set_xlabel("E [keV]")
    ax.set_ylabel("photons s$^{-1}$ cm$^{-2}$ keV$^{-1}$")
    top = max(float(np.max(v[0])) for v in result.values()) or 1.0
    ax.set_ylim(top * 1e-8, top * 3)
    ax.legend(fontsize=8)
    ax.set_title(f"{Path(maps.snapshot.path).name}   t = {_time_yr(maps):.5g} yr   "
                 f"N_H = {maps.options.nh:.3g} cm$^{{-2}}$")
    fig.savefig(path_png, dpi=100)


def _meta(maps):
    opts = maps.options
    return {"nh_cm-2": float(opts.nh), "absorption": opts.model,
            "absorption_reference": absorption.CITATION[opts.model],
            "distance_pc": opts.distance / PC, "line_of_sight": sight_label(opts),
            "width_pc": maps.geometry.width / PC, "resolution": opts.resolution,
            "metallicity": (opts.metallicity if not isinstance(opts.metallicity, dict)
                            else dict(opts.metallicity)),
            "split": opts.split}


# --------------------------------------------------------------------------- a run

def run_name(paths):
    """Base name of the run's files: the first snapshot's stem without its number."""
    stem = Path(paths[0]).stem
    return re.sub(r"[._-]?\d+$", "", stem) or stem


def output_paths(snapshot_path, options, out):
    """Every file one snapshot writes: {key: path}."""
    stem = Path(snapshot_path).stem
    files = {}
    for band in map(tuple, options.bands):
        files["png", band] = out / f"{stem}_xray_{band_label(band)}.png"
        files["fits", band] = out / f"{stem}_xray_{band_label(band)}.fits"
        for part, _ in (_parts(options) if options.split is not None else []):
            files["png", band, part] = out / f"{stem}_xray_{band_label(band)}_{part}.png"
    if options.spectrum:
        files["spectrum_table"] = out / f"{stem}_xray_spectrum.ecsv"
        files["spectrum_png"] = out / f"{stem}_xray_spectrum.png"
    return files


def _check_out(out):
    if out.exists() and not out.is_dir():
        raise XrayInputError(f"--out {out}: not a directory")
    parent = out if out.exists() else out.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise XrayInputError(f"--out {out}: cannot write there")


def _observe_one(path, options, table, tables, regions, out):
    """Compute and write the files of one snapshot; return its row of the run's table."""
    maps = project(path, options, table, tables)
    files = output_paths(path, options, out)
    wcs = celestial_wcs(maps)
    row = {"snapshot": Path(path).name, "time": _time_yr(maps),
           "outside_cells": maps.snapshot.outside}
    parts = ["total"] + sorted({key[0] for key in maps.images} - {"total"})
    n = maps.geometry.n
    masks = {name: region_mask(region, wcs, (n, n)) for name, region in regions}
    for band in map(tuple, options.bands):
        write_fits(maps, band, files["fits", band], table)
        write_png(maps, band, files["png", band], regions)
        for part in parts[1:]:
            write_png(maps, band, files["png", band, part], regions, part)
        label = band_label(band)
        for part in parts:
            suffix = "" if part == "total" else f"_{part}"
            row[f"L_{label}{suffix}"] = maps.luminosity[part, band]
            row[f"F_abs_{label}{suffix}"] = maps.flux[part, band]
            for name, region in regions:
                row[f"F_abs_{label}{suffix}_{name}"] = region_flux(
                    maps.images[part, band, "abs_energy"], masks[name], maps.pixel_arcsec)
    if maps.snapshot.outside:
        print(f"{path}: {maps.snapshot.outside} cells outside the emissivity table's "
              f"temperatures left out", flush=True)
    if options.spectrum:
        weights = {"map": maps.geometry.cell_fraction(np.ones((n, n)))}
        for name, _ in regions:
            weights[name] = maps.geometry.cell_fraction(masks[name].T)
        result = spectra(maps, tables, weights)
        write_spectrum(maps, table.edges, result, files["spectrum_table"],
                       files["spectrum_png"])
    print(f"{path}: {len(files)} files in {out}", flush=True)
    return row


def write_run_table(rows, options, table, regions, path):
    """The run's ECSV: one row per snapshot, time in yr, L in erg/s, fluxes in erg/s/cm2."""
    from astropy.table import Table

    result = Table(rows=rows, names=list(rows[0]))
    result["time"].unit = "yr"
    for name in result.colnames:
        if name.startswith("L_"):
            result[name].unit = "erg / s"
        elif name.startswith("F_"):
            result[name].unit = "erg / (s cm2)"
    result.meta.update({
        "description": "hydro xray: band luminosity (unabsorbed, gas inside the map), "
                       "absorbed flux at Earth of the map and inside each region",
        "bands_keV": [list(map(float, b)) for b in options.bands],
        "nh_cm-2": float(options.nh), "absorption": options.model,
        "absorption_reference": absorption.CITATION[options.model],
        "distance_pc": options.distance / PC, "line_of_sight": sight_label(options),
        "regions": [name for name, _ in regions], "emissivity_table": str(table.path),
        "emissivity_info": table.info})
    result.write(path, format="ascii.ecsv", overwrite=True)
    return result


def write_lightcurve(result, options, regions, path):
    """Absorbed flux against time, one curve per band (and region)."""
    fig = _figure()
    ax = fig.add_subplot()
    for band in map(tuple, options.bands):
        label = band_label(band)
        for name in [None] + [n for n, _ in regions]:
            column = f"F_abs_{label}" + ("" if name is None else f"_{name}")
            ax.plot(result["time"], result[column], marker="o",
                    label=f"{band[0]:g}-{band[1]:g} keV" + ("" if name is None else f", {name}"))
    if np.all(np.asarray([result[c] for c in result.colnames if c.startswith("F_abs")]) > 0):
        ax.set_yscale("log")
    ax.set_xlabel("t [yr]")
    ax.set_ylabel("absorbed flux [erg s$^{-1}$ cm$^{-2}$]")
    ax.set_title(f"N_H = {options.nh:.3g} cm$^{{-2}}$ ({options.model}), "
                 f"d = {options.distance / PC / 1e3:.4g} kpc")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100)


def observe(snapshots, options, comm=None):
    """What ``hydro xray`` does: check everything, then write the maps, FITS, spectra of
    each snapshot and the run's table (and light curve) into ``options.out``; return the
    run's table (an astropy Table; None on ranks other than 0). ``comm``: an MPI
    communicator to share the snapshots among (default: none, serial).
    Raises :class:`XrayInputError` for bad input, before anything is written."""
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    snapshots = [str(s) for s in snapshots]
    if not snapshots:
        raise XrayInputError("give at least one snapshot")
    out = Path(options.out) if options.out else Path(snapshots[0]).parent
    error = None
    if rank == 0:  # the built-in table is built once, by one rank
        try:
            em.ensure_table(options.table)
        except (OSError, ValueError) as e:
            error = str(e)
    if comm is not None:
        error = comm.bcast(error, root=0)
    if error:
        raise XrayInputError(error)
    try:
        table = em.EmissivityTable(options.table)
    except (OSError, ValueError, KeyError) as e:
        raise XrayInputError(f"emissivity table: {e}") from None
    check_options(options, table)
    regions = read_regions(options.regions)
    _check_out(out)
    mine = snapshots[rank::size]
    # everything checked before anything is written: each rank its own snapshots
    error = None
    for path in mine:
        try:
            check_snapshot(path, options.split, table, options.ignore_outside)
        except XrayInputError as e:
            error = (snapshots.index(path), str(e))
            break
    if comm is not None:
        errors = [e for e in comm.allgather(error) if e is not None]
        error = min(errors) if errors else None
    if error is not None:
        raise XrayInputError(error[1])
    out.mkdir(parents=True, exist_ok=True)
    tables = BandTables(table, [tuple(b) for b in options.bands], options.nh, options.model)
    rows = []
    for path in mine:
        rows.append((snapshots.index(path),
                     _observe_one(path, options, table, tables, regions, out)))
    if comm is not None:
        rows = [row for part in comm.gather(rows, root=0) or [] for row in part]
    if rank != 0:
        return None
    rows = [row for _, row in sorted(rows, key=lambda r: r[0])]
    name = run_name(snapshots)
    result = write_run_table(rows, options, table, regions, out / f"{name}_xray.ecsv")
    print(out / f"{name}_xray.ecsv", flush=True)
    if options.lightcurve:
        write_lightcurve(result, options, regions, out / f"{name}_xray_lightcurve.png")
        print(out / f"{name}_xray_lightcurve.png", flush=True)
    return result


# --------------------------------------------------------------------------- command line

class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (XrayInputError instead of usage and exit)."""

    def error(self, message):
        raise XrayInputError(message)


_SINGLE_VALUED = ("--nh", "--distance", "--width", "--resolution", "--metallicity")


def _join_negative_values(argv):
    """``--nh -1e22`` -> ``--nh=-1e22``: argparse takes ``-1e22`` or ``-8kpc`` for an
    option, and the user should hear that the value is negative instead."""
    argv = list(argv)
    joined = []
    i = 0
    while i < len(argv):
        if (argv[i] in _SINGLE_VALUED and i + 1 < len(argv)
                and re.match(r"-[0-9.]", argv[i + 1])):
            joined.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def _parse_args(argv):
    p = _Parser(
        prog="hydro xray",
        description="Synthetic X-ray maps, FITS images, light curves and spectra of "
                    "hydro snapshots (continuum emissivity table, foreground absorption).")
    p.add_argument("snapshots", nargs="+", help="snapshot files (3D, physical units)")
    p.add_argument("--band", nargs=2, type=float, action="append", metavar=("E1", "E2"),
                   help="energy band in keV (repeat for several; default 0.5 2 and 2 8)")
    sight = p.add_mutually_exclusive_group()
    sight.add_argument("--axis", choices=("x", "y", "z"), default="z",
                       help="line of sight along a grid axis (z)")
    sight.add_argument("--normal", nargs=3, type=float, metavar=("NX", "NY", "NZ"),
                       help="line of sight along any direction (cells spread over pixels)")
    p.add_argument("--width", help="map side, e.g. 20pc (default: the domain)")
    p.add_argument("--resolution", type=int, default=512, help="pixels per side (512)")
    p.add_argument("--nh", type=float, default=0.0, help="foreground N_H in cm^-2 (0)")
    p.add_argument("--absorption", choices=absorption.MODELS, default=absorption.DEFAULT_MODEL,
                   help=f"absorption model ({absorption.DEFAULT_MODEL})")
    p.add_argument("--distance", default="8kpc", help="distance, e.g. 8kpc (8kpc)")
    p.add_argument("--sky-center", nargs=2, type=float, default=(0.0, 0.0),
                   metavar=("RA", "DEC"), help="map centre on the sky, degrees (0 0)")
    p.add_argument("--metallicity", default="1.0",
                   help="Z in Zsun, or per part with --split: ejecta=3,rest=1")
    p.add_argument("--split", metavar="SCALAR", help="split the emission by a passive scalar")
    p.add_argument("--region", action="append", default=[], metavar="FILE.reg",
                   help="DS9 region file (repeatable)")
    p.add_argument("--lightcurve", action="store_true", help="also a PNG of flux against time")
    p.add_argument("--spectrum", action="store_true", help="photon spectra (table and PNG)")
    p.add_argument("--table", help="emissivity table in yt's apec layout "
                                   "(default: the built-in free-free continuum)")
    p.add_argument("--out", help="output directory (default: the first snapshot's)")
    p.add_argument("--ignore-outside", action="store_true",
                   help="leave cells outside the table's temperatures out (counted)")
    return p.parse_args(_join_negative_values(sys.argv[1:] if argv is None else argv))


def options_from_args(args):
    """:class:`Options` from parsed arguments (XrayInputError for bad values)."""
    if args.nh < 0 or not math.isfinite(args.nh):
        raise XrayInputError(f"--nh must be a column >= 0 cm^-2, got {args.nh:g}")
    distance = parse_length(args.distance, "--distance")
    width = None if args.width is None else parse_length(args.width, "--width")
    return Options(bands=[tuple(b) for b in (args.band or [(0.5, 2.0), (2.0, 8.0)])],
                   axis="xyz".index(args.axis), width=width, resolution=args.resolution,
                   nh=args.nh, model=args.absorption, distance=distance,
                   sky_center=tuple(args.sky_center),
                   metallicity=parse_metallicity(args.metallicity, args.split),
                   split=args.split, regions=list(args.region), lightcurve=args.lightcurve,
                   spectrum=args.spectrum, table=args.table, out=args.out,
                   ignore_outside=args.ignore_outside,
                   normal=None if args.normal is None else tuple(args.normal))


def _communicator():
    """MPI.COMM_WORLD under mpiexec with more than one rank, else None."""
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


def main(argv=None):
    """``hydro xray``: exit status 0, or 2 with one line on stderr for bad input."""
    comm = _communicator()
    rank = 0 if comm is None else comm.Get_rank()
    try:
        args = _parse_args(argv)
        observe(args.snapshots, options_from_args(args), comm)
    except XrayInputError as e:
        if rank == 0:
            print(f"hydro xray: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a failure on one rank (a damaged file, a bug)
        if os.environ.get("HYDRO_DEBUG"):
            raise
        where = f"rank {rank}: " if comm is not None else ""
        print(f"hydro xray: {where}failed: {type(e).__name__}: {e} "
              "(set HYDRO_DEBUG=1 for the traceback)", file=sys.stderr, flush=True)
        if comm is not None:
            comm.Abort(1)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
