"""X-ray continuum emissivity table: thermal bremsstrahlung of a fully ionised plasma.

What it holds
-------------
One concept: the emissivity table in the layout that yt's
``add_xray_emissivity_field(..., table_type="apec")`` reads
(``apec_emissivity_v3.h5``, see shared/notes/yt-gdf-and-xray.md), with

* root attributes ``version`` = 3 and ``info`` (what is in the table, in words);
* ``log_T`` (nT,), evenly spaced log10 of the temperature in K;
* ``E`` (nE + 1,), energy bin edges in keV;
* ``emissivity_primordial`` and ``emissivity_metals`` (nT, nE): the bin averages
  of the spectral emissivity in erg cm^3 s^-1 keV^-1, per n_e n_H (the metals
  at solar abundances, scaled by the metallicity in Zsun when used).

Without a table of their own (the real APEC one brings lines), users get one
built here at first use (:func:`ensure_table`), cached per user under
``$XDG_CACHE_HOME/hydro`` or ``~/.cache/hydro`` (never in the repository or
the working directory) and written atomically. It holds only the free-free
continuum (no lines, no recombination or two-photon continuum; AtomDB and
CHIANTI data cannot be had offline, and the recombination continuum of the
metals, which dominates the X-ray free-bound emission, needs ionisation
fractions we do not have).

The model (per n_e n_H; Rybicki & Lightman 1979, eq. 5.14b, per unit energy)::

    j(E, T) = C T^-1/2 exp(-E / kT) sum_i (n_i / n_H) Z_i^2 g_ff(gamma_i^2, u)

    C = (32 pi e^6 / (3 m_e c^3)) (2 pi / (3 k m_e))^(1/2) (keV / h)
      = 1.6543e-20 erg cm^3 s^-1 keV^-1 K^(1/2)     (6.84e-38 per Hz)
    gamma_i^2 = Z_i^2 Ry / kT,   u = E / kT

with every element H to Zn taken fully ionised (charge Z_i = atomic number) at
all temperatures, abundances n_i / n_H of Asplund, Grevesse, Sauval & Scott
(2009, ARA&A 47, 481, Table 1, photospheric), and the thermally averaged
non-relativistic Gaunt factor g_ff of van Hoof et al. (2014, MNRAS 444, 420),
shipped as ``data/gauntff.dat`` with its notice. Approximations, stated in
``info`` too:

* Full ionisation: right for H above ~2e4 K and He above ~1e5 K (collisional
  equilibrium; below, their free-free is overestimated, where X-rays are
  negligible anyway) and for the metals' electrons in n_e, but the metals'
  free-free goes as the square of the ion charge, so below ~1e7 K (where e.g.
  Fe is not bare) the metals table is an upper bound. At solar abundances the
  metals give ~7% of the free-free.
* Non-relativistic Gaunt factors: the relativistic corrections of van Hoof et
  al. (2015, MNRAS 449, 2112) are left out. Measured on their Z = 1 table
  (gauntff_merged_Z01.dat) against the shipped one, at the table nodes nearest
  0.5-20 keV: +0.1 to +1% at 1e7 K, +0.5 to +1.6% at 1e8 K, +7 to +11% at
  1e9 K, so the table underestimates the hottest gas by up to ~10%.
* Bin averages: each bin is cut into ``SUB_BINS`` parts; in each, the
  exponential is integrated exactly and the slowly varying Gaunt factor is
  taken at the centroid of the exponential weight, which makes the rule exact
  to second order in the part's width (see :func:`_bin_averages`); measured
  against adaptive quadrature of the model, bins are right to 2.5e-5 at
  0.1 keV and better at higher energies.

Band emissivities
-----------------
:meth:`EmissivityTable.band` does what yt's ``XrayEmissivityIntegrator`` does
(sum the bins times their overlap with the band, take log10, interpolate
linearly in log T), on plain floats, so that it works whatever np.digitize
does with units (yt 4.4.3 + unyt 3.2 breaks yt's own call), and it refuses
temperatures outside the table instead of extrapolating. Linear interpolation
of log(emissivity) in log T is exact at the nodes; between them its relative
error is at most (ln(10) dlogT)^2 max(E_min/kT, 1) / 8 for a band starting at
E_min (the band emissivity goes as exp(-E_min / kT) for E_min >> kT): with the
default 0.004 dex that is 1.1e-5 E_min/kT, below 1e-3 wherever
E_min/kT < 90 (e.g. a 0.5 keV band above 6.5e4 K, a 2 keV band above 2.6e5 K).
A band edge inside a bin takes the bin's overlap fraction, as yt does, which
treats the spectrum as flat across the bin: where kT is not much larger than
the bin that is wrong (measured for 0.505-1.995 keV on the built-in 0.01 keV
bins: 17% at 1e5 K, 1.8e-3 at 1e6 K, < 1e-3 above 1.5e6 K), so give band edges
on bin edges (multiples of 0.01 keV for the built-in table).

Densities
---------
yt's ``default_species_fields="ionized"`` takes X_H = 0.76; hydro runs carry
their own ``hydro.hydrogen_fraction`` X and ``hydro.mu``, stored in the
snapshot (``/hydro_restart`` attribute ``params_yaml``). :func:`run_composition`
reads them and :func:`number_densities` gives n_e and n_H (formulas there).
:func:`add_xray_fields` defines yt fields from the table with those densities.
"""

import contextlib
import hashlib
import math
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np

TABLE_NAME = "apec_emissivity_v3.h5"
"""File name yt's ``add_xray_emissivity_field(table_type="apec")`` looks for."""

TABLE_VERSION = 3
"""``version`` attribute yt requires of an apec table."""

RECIPE = "hydro free-free continuum, recipe 1"
"""Changes whenever the physics or numerics of :func:`build_table` change, so that a
cached table built by an older recipe is never reused (it is part of the cache key)."""

GAUNT_FILE = Path(__file__).with_name("data") / "gauntff.dat"

DEFAULT_LOG_T = np.linspace(4.0, 9.0, 1251)
"""log10 T [K] of the built table: 1e4 to 1e9 K in steps of 0.004 dex."""

DEFAULT_ENERGY_EDGES = np.arange(10, 2001) / 100.0
"""Energy bin edges [keV] of the built table: 0.10 to 20.00 keV in 0.01 keV bins (each
edge the double nearest its two-decimal value, so bands such as 0.5-2 or 2-8 keV fall
on edges)."""

SUB_BINS = 2
"""Parts each energy bin is cut into for its average (see :func:`_bin_averages`)."""

FLOOR = 1e-300
"""Smallest table value [erg cm^3 s^-1 keV^-1]: yt takes log10 of the band sums, so the
table must stay > 0 where exp(-E/kT) underflows (E/kT > ~640)."""

# CODATA 2018, cgs
ELECTRON_CHARGE = 4.803204712570263e-10  # esu
ELECTRON_MASS = 9.1093837015e-28  # g
SPEED_OF_LIGHT = 2.99792458e10  # cm s^-1
BOLTZMANN = 1.380649e-16  # erg K^-1
PLANCK = 6.62607015e-27  # erg s
KEV = 1.602176634e-9  # erg
RYDBERG_ENERGY_KEV = 13.605693122994e-3  # Ry = m_e e^4 / (2 hbar^2) (infinite nuclear mass)
KEV_PER_K = BOLTZMANN / KEV  # k in keV K^-1
HYDROGEN_MASS = 1.6737352238051868e-24  # g, the hydrogen atom: the m_H of hydro and yt

FREE_FREE_CONSTANT = (32.0 * math.pi * ELECTRON_CHARGE ** 6
                      / (3.0 * ELECTRON_MASS * SPEED_OF_LIGHT ** 3)
                      * math.sqrt(2.0 * math.pi / (3.0 * BOLTZMANN * ELECTRON_MASS))
                      * KEV / PLANCK)
"""C of the module docstring: j = C T^-1/2 Z^2 n_e n_i g exp(-E/kT), erg cm^3 s^-1 keV^-1
K^1/2 (Rybicki & Lightman 1979, eq. 5.14b, 6.8e-38 per Hz, times keV/h)."""

ASPLUND_2009 = {
    1: 12.00, 2: 10.93, 3: 1.05, 4: 1.38, 5: 2.70, 6: 8.43, 7: 7.83, 8: 8.69, 9: 4.56,
    10: 7.93, 11: 6.24, 12: 7.60, 13: 6.45, 14: 7.51, 15: 5.41, 16: 7.12, 17: 5.50,
    18: 6.40, 19: 5.03, 20: 6.34, 21: 3.15, 22: 4.95, 23: 3.93, 24: 5.64, 25: 5.43,
    26: 7.50, 27: 4.99, 28: 6.22, 29: 4.19, 30: 4.56,
}
"""Solar photospheric abundances log10(n_Z / n_H) + 12 by atomic number, H to Zn:
Asplund, Grevesse, Sauval & Scott (2009, ARA&A 47, 481), Table 1."""


class OutsideTableError(ValueError):
    """Temperatures outside the table (or not finite): reported, never extrapolated."""


# --------------------------------------------------------------------------- Gaunt factor

@dataclass(frozen=True)
class _GauntGrid:
    values: np.ndarray  # [i_u, i_gam2]
    log_gamma2_0: float
    log_u_0: float
    step: float


@lru_cache(maxsize=1)
def _gaunt_grid():
    """The van Hoof et al. (2014) table: 146 rows of constant log u (from -16 in 0.2 dex
    steps), 81 columns of constant log gamma^2 (from -6 in 0.2 dex steps); the file's
    second table (the uncertainties) is not read."""
    rows = np.loadtxt(GAUNT_FILE, comments="#")
    n_gamma2, n_u = 81, 146
    if rows.shape != (2 * n_u, n_gamma2):
        raise ValueError(f"{GAUNT_FILE}: expected {2 * n_u} rows of {n_gamma2} values, "
                         f"found {rows.shape}")
    return _GauntGrid(rows[:n_u], -6.0, -16.0, 0.2)


def _lagrange4(position, n):
    """First index and the 4 weights of cubic Lagrange interpolation at fractional grid
    ``position`` on nodes 0..n-1 (nodes i-1, i, i+1, i+2 around the point, shifted
    inward at the ends)."""
    i = np.clip(np.floor(position).astype(np.int64), 1, n - 3)
    t = position - i
    weights = (-t * (t - 1.0) * (t - 2.0) / 6.0,
               (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0,
               -(t + 1.0) * t * (t - 2.0) / 2.0,
               (t + 1.0) * t * (t - 1.0) / 6.0)
    return i - 1, weights


def _grid_position(log_value, start, step, n, name):
    position = (np.asarray(log_value, dtype=np.float64) - start) / step
    if np.any(~np.isfinite(position)) or np.any(position < 0) or np.any(position > n - 1):
        raise ValueError(f"log10 {name} outside the Gaunt table "
                         f"[{start}, {start + step * (n - 1)}]")
    return position


def gaunt_ff(gamma2, u):
    """Thermally averaged non-relativistic free-free Gaunt factor <g_ff>(gamma^2, u).

    gamma^2 = Z^2 Ry / kT and u = h nu / kT (van Hoof et al. 2014, MNRAS 444, 420,
    eqs. 1-3 define it as the Maxwellian average of the Gaunt factor of Karzas & Latter
    1961). Interpolated in the shipped table by cubic (4-point) Lagrange interpolation
    in log10 gamma^2 and log10 u, as van Hoof et al. recommend (their Section 4);
    valid for 1e-6 <= gamma^2 <= 1e10 and 1e-16 <= u <= 1e13 (ValueError outside).
    """
    grid = _gaunt_grid()
    n_u, n_g = grid.values.shape
    pg = _grid_position(np.log10(gamma2), grid.log_gamma2_0, grid.step, n_g, "gamma^2")
    pu = _grid_position(np.log10(u), grid.log_u_0, grid.step, n_u, "u")
    pg, pu = np.broadcast_arrays(pg, pu)
    ig, wg = _lagrange4(pg, n_g)
    iu, wu = _lagrange4(pu, n_u)
    result = np.zeros(pg.shape)
    for a in range(4):
        for b in range(4):
            result += wu[a] * wg[b] * grid.values[iu + a, ig + b]
    return result[()] if result.ndim == 0 else result


# --------------------------------------------------------------------------- the model

def _species(kind):
    """(charges, n_i / n_H) of the ``primordial`` (H, He) or ``metals`` (Li-Zn) ions."""
    charges = [z for z in ASPLUND_2009 if (z <= 2) == (kind == "primordial")]
    return (np.array(charges, dtype=np.float64),
            np.array([10.0 ** (ASPLUND_2009[z] - 12.0) for z in charges]))


def free_free_spectrum(energy, temperature, kind="primordial"):
    """Spectral free-free emissivity j(E, T) / (n_e n_H) in erg cm^3 s^-1 keV^-1.

    ``energy`` in keV and ``temperature`` in K broadcast together; ``kind`` is
    "primordial" (H and He) or "metals" (Li to Zn at solar abundance). This is the
    model of the module docstring (Rybicki & Lightman 1979, eq. 5.14b, with the van
    Hoof et al. 2014 Gaunt factor) that the table's bins average.
    """
    charges, abundances = _species(kind)
    energy, temperature = np.broadcast_arrays(np.asarray(energy, dtype=np.float64),
                                              np.asarray(temperature, dtype=np.float64))
    kt = KEV_PER_K * temperature
    u = energy / kt
    total = np.zeros(energy.shape)
    for z, abundance in zip(charges, abundances):
        total += abundance * z * z * gaunt_ff(z * z * RYDBERG_ENERGY_KEV / kt, u)
    result = FREE_FREE_CONSTANT / np.sqrt(temperature) * np.exp(-u) * total
    return result[()] if result.ndim == 0 else result


def _weighted_gaunt_rows(log_t, kind):
    """sum_i (n_i/n_H) Z_i^2 g_ff(gamma_i^2(T), u_k) on the Gaunt table's log u nodes:
    (nT, 146). Interpolating first in gamma^2 and then in u (:func:`_bin_averages`) is the
    same tensor-product Lagrange interpolation as :func:`gaunt_ff`."""
    grid = _gaunt_grid()
    n_u, n_g = grid.values.shape
    charges, abundances = _species(kind)
    log_ry_over_kt = np.log10(RYDBERG_ENERGY_KEV / KEV_PER_K) - log_t
    rows = np.zeros((log_t.size, n_u))
    for z, abundance in zip(charges, abundances):
        pg = _grid_position(2.0 * np.log10(z) + log_ry_over_kt, grid.log_gamma2_0,
                            grid.step, n_g, "gamma^2")
        ig, wg = _lagrange4(pg, n_g)
        for b in range(4):
            rows += abundance * z * z * wg[b][:, None] * grid.values[:, ig + b].T
    return rows


def _bin_averages(log_t, edges, kinds=("primordial", "metals"), sub_bins=SUB_BINS):
    """Bin averages (1/dE) int_bin j(E, T) dE of :func:`free_free_spectrum`, one (nT, nE)
    array for each of ``kinds``.

    Each bin is cut into ``sub_bins`` parts [e1, e1 + d]. With lambda = 1/kT and
    a = lambda d, the exponential integrates exactly,
        int exp(-lambda E) dE = exp(-lambda e1) (1 - exp(-a)) / lambda,
    and the Gaunt factor is taken at the centroid of that weight,
        E_c = e1 + d (1/a - 1/(exp(a) - 1)),
    which removes the first-order term of its Taylor expansion: the error is
    (1/2) g''(E_c) var(E) / g <= g'' d^2 / (24 g) per part.
    """
    grid = _gaunt_grid()
    n_u = grid.values.shape[0]
    rows = [_weighted_gaunt_rows(log_t, kind) for kind in kinds]
    widths = np.diff(edges)
    e1 = (edges[:-1, None] + widths[:, None] * np.arange(sub_bins) / sub_bins).ravel()
    d = np.repeat(widths / sub_bins, sub_bins)
    results = [np.empty((log_t.size, widths.size)) for _ in kinds]
    chunk = max(1, 500_000 // e1.size)
    with np.errstate(over="ignore", under="ignore"):
        for start in range(0, log_t.size, chunk):
            stop = min(start + chunk, log_t.size)
            t = 10.0 ** log_t[start:stop, None]
            lam = 1.0 / (KEV_PER_K * t)
            a = lam * d
            small = a < 1e-3
            centroid_fraction = np.where(small, 0.5 - a / 12.0,
                                         1.0 / np.where(small, 1.0, a) - 1.0 / np.expm1(a))
            weight = np.exp(-lam * e1) * (-np.expm1(-a)) / lam
            log_u = np.log10((e1 + d * centroid_fraction) * lam)
            iu, wu = _lagrange4(_grid_position(log_u, grid.log_u_0, grid.step, n_u, "u"), n_u)
            iu += n_u * np.arange(stop - start)[:, None]  # flat index into the chunk's rows
            norm = FREE_FREE_CONSTANT / np.sqrt(t) / widths
            for row, result in zip(rows, results):
                flat = row[start:stop].ravel()
                gaunt = (wu[0] * flat[iu] + wu[1] * flat[iu + 1] + wu[2] * flat[iu + 2]
                         + wu[3] * flat[iu + 3])
                sums = (gaunt * weight).reshape(stop - start, -1, sub_bins).sum(axis=2)
                result[start:stop] = norm * sums
    return results


# --------------------------------------------------------------------------- building

def table_info(log_t, edges):
    """The ``info`` attribute: exactly what a table built here holds."""
    return (
        f"{RECIPE}. CONTINUUM ONLY: thermal bremsstrahlung (free-free) of H and He "
        f"('primordial') and of Li to Zn ('metals', solar abundances), all ions taken fully "
        f"ionised at every temperature (ion charge = atomic number; the metals' free-free is "
        f"an upper bound below ~1e7 K). No emission lines, no recombination (free-bound) or "
        f"two-photon continuum. Abundances: Asplund, Grevesse, Sauval & Scott 2009, ARA&A 47, "
        f"481, Table 1 (photospheric; He/H = {10 ** (ASPLUND_2009[2] - 12):.4f}). Gaunt "
        f"factor: thermally averaged non-relativistic free-free Gaunt factors of van Hoof et "
        f"al. 2014, MNRAS 444, 420 (cubic Lagrange interpolation in log gamma^2, log u); no "
        f"relativistic correction (for H it would add 0.5-1.6% at 1e8 K, 7-11% at 1e9 K). "
        f"Spectrum: Rybicki & Lightman 1979 eq. 5.14b. Values: bin "
        f"averages of the spectral emissivity in erg cm^3 s^-1 keV^-1 per n_e n_H, floored "
        f"at {FLOOR:g}. Grid: log10(T/K) from {log_t[0]:g} to {log_t[-1]:g} in {log_t.size} "
        f"evenly spaced values; E {edges[0]:g} to {edges[-1]:g} keV in {edges.size - 1} "
        f"bins. Built by hydro.analysis.emissivity.")


def build_table(path, log_t=None, edges=None):
    """Write the free-free table to ``path`` (temporary name in the same directory, then
    renamed: a reader never sees a partial file) and return ``path``.

    ``log_t``: evenly spaced log10 T [K], increasing (default :data:`DEFAULT_LOG_T`);
    ``edges``: increasing bin edges in keV (default :data:`DEFAULT_ENERGY_EDGES`). See
    the module docstring for what goes in.
    """
    log_t = np.asarray(DEFAULT_LOG_T if log_t is None else log_t, dtype=np.float64)
    edges = np.asarray(DEFAULT_ENERGY_EDGES if edges is None else edges, dtype=np.float64)
    if log_t.ndim != 1 or log_t.size < 2 or not np.allclose(
            np.diff(log_t), (log_t[-1] - log_t[0]) / (log_t.size - 1), rtol=1e-9, atol=0):
        raise ValueError("log_t must be at least 2 evenly spaced increasing values")
    if log_t[0] >= log_t[-1]:
        raise ValueError("log_t must increase")
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] <= 0:
        raise ValueError("edges must be at least 2 increasing positive energies in keV")
    primordial, metals = (np.maximum(values, FLOOR) for values in _bin_averages(log_t, edges))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["version"] = np.int64(TABLE_VERSION)
            f.attrs["info"] = table_info(log_t, edges)
            f.create_dataset("log_T", data=log_t)
            f.create_dataset("E", data=edges)
            f.create_dataset("emissivity_primordial", data=primordial)
            f.create_dataset("emissivity_metals", data=metals)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    return path


def cache_dir():
    """Per-user cache: ``$XDG_CACHE_HOME/hydro`` or ``~/.cache/hydro``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hydro"


def default_table_dir():
    """Directory of the cached built table: keyed on the recipe, the grids and the Gaunt
    data, so that a change to any of them builds a new table instead of reusing a stale one
    (yt needs the file name ``apec_emissivity_v3.h5``, so the key is in the directory)."""
    key = hashlib.sha256()
    key.update(RECIPE.encode())
    key.update(np.asarray(DEFAULT_LOG_T, dtype=np.float64).tobytes())
    key.update(np.asarray(DEFAULT_ENERGY_EDGES, dtype=np.float64).tobytes())
    key.update(GAUNT_FILE.read_bytes())
    return cache_dir() / "xray" / f"freefree-{key.hexdigest()[:16]}"


def ensure_table(path=None):
    """Path of the emissivity table to use: ``path`` (a user's file, e.g. the real
    ``apec_emissivity_v3.h5``; FileNotFoundError if missing) or the built-in free-free
    table, built into the per-user cache at first use."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no emissivity table {path}")
        return path
    path = default_table_dir() / TABLE_NAME
    if not path.is_file():
        build_table(path)
    return path


# --------------------------------------------------------------------------- using

class EmissivityTable:
    """An apec-layout emissivity table read into memory (ours or a user's).

    Attributes: ``path``, ``info`` (str, "" if absent), ``log_t`` (nT,), ``edges`` (nE+1,)
    keV, ``primordial`` and ``metals`` (nT, nE) erg cm^3 s^-1 keV^-1 per n_e n_H.
    """

    def __init__(self, path=None):
        self.path = ensure_table(path)
        with h5py.File(self.path, "r") as f:
            version = f.attrs.get("version")
            if version is None or int(version) != TABLE_VERSION:
                raise ValueError(f"{self.path}: not an apec emissivity table of version "
                                 f"{TABLE_VERSION} (version {version!r})")
            info = f.attrs.get("info", "")
            self.info = info.decode() if isinstance(info, bytes) else str(info)
            self.log_t = f["log_T"][:].astype(np.float64)
            self.edges = f["E"][:].astype(np.float64)
            self.primordial = f["emissivity_primordial"][:].astype(np.float64)
            self.metals = f["emissivity_metals"][:].astype(np.float64)
        # yt uses only the first and last log_T and spaces the rest evenly
        self._log_t_nodes = np.linspace(self.log_t[0], self.log_t[-1], self.log_t.size)

    @property
    def temperature_range(self):
        """(T_min, T_max) in K."""
        return 10.0 ** self.log_t[0], 10.0 ** self.log_t[-1]

    def check_band(self, e_min, e_max):
        """ValueError unless e_min < e_max inside the table's energies."""
        if not (math.isfinite(e_min) and math.isfinite(e_max) and e_min < e_max):
            raise ValueError(f"band {e_min}-{e_max} keV: need e_min < e_max")
        if e_min < self.edges[0] or e_max > self.edges[-1]:
            raise ValueError(f"band {e_min}-{e_max} keV outside the table's "
                             f"{self.edges[0]:g}-{self.edges[-1]:g} keV")

    def check_temperature(self, temperature):
        """OutsideTableError naming how many temperatures are outside the table (or not
        finite), and their range; the table is never extrapolated."""
        temperature = np.asarray(temperature, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t = np.log10(temperature)
            bad = ~((log_t >= self.log_t[0]) & (log_t <= self.log_t[-1]))
        if np.any(bad):
            values = temperature[bad]
            finite = values[np.isfinite(values)]
            found = (f"from {finite.min():.4g} to {finite.max():.4g} K" if finite.size
                     else "none finite")
            if 0 < finite.size < values.size:
                found += f", and {values.size - finite.size} not finite"
            raise OutsideTableError(
                f"{int(bad.sum())} of {bad.size} temperatures outside the emissivity table "
                f"{self.temperature_range[0]:.4g}-{self.temperature_range[1]:.4g} K "
                f"({found}; {self.path})")
        return log_t

    def band_sums(self, e_min, e_max, photons=False):
        """(primordial, metals) sums over the bins of table x overlap with [e_min, e_max]
        (nT,): erg cm^3 s^-1, or photons cm^3 s^-1 with ``photons`` (each bin divided by
        its mid energy, as yt does)."""
        self.check_band(e_min, e_max)
        overlap = np.clip(np.minimum(self.edges[1:], e_max)
                          - np.maximum(self.edges[:-1], e_min), 0.0, None)
        scale = overlap
        if photons:
            scale = overlap / (0.5 * (self.edges[1:] + self.edges[:-1]) * KEV)
        return self.primordial @ scale, self.metals @ scale

    def band(self, e_min, e_max, temperature, metallicity=1.0, photons=False):
        """Band emissivity per n_e n_H at ``temperature`` [K] (any shape): erg cm^3 s^-1
        (or photons cm^3 s^-1), = P(T) + metallicity x M(T).

        P and M are :meth:`band_sums` interpolated as yt does: linearly in log10 T, of
        log10 of the sums (accuracy: module docstring; band edges inside bins are exact
        only where kT >> the bin width). ``metallicity`` is in solar units (a float or an array
        broadcasting with ``temperature``). Temperatures outside the table raise
        :class:`OutsideTableError`.
        """
        log_t = self.check_temperature(temperature)
        primordial, metals = self.band_sums(e_min, e_max, photons)
        p = 10.0 ** np.interp(log_t, self._log_t_nodes, np.log10(primordial))
        m = 10.0 ** np.interp(log_t, self._log_t_nodes, np.log10(metals))
        return p + np.asarray(metallicity, dtype=np.float64) * m

    def spectrum(self, temperature, metallicity=1.0):
        """Per-bin spectral emissivity per n_e n_H [erg cm^3 s^-1 keV^-1] at one
        temperature, (nE,), interpolated like :meth:`band` (log-linear in log T)."""
        log_t = float(self.check_temperature(np.float64(temperature)))
        nodes = self._log_t_nodes
        i = min(int(np.searchsorted(nodes, log_t, side="right")) - 1, nodes.size - 2)
        t = (log_t - nodes[i]) / (nodes[i + 1] - nodes[i])

        def interpolate(values):
            logs = np.log10(values[i:i + 2])
            return 10.0 ** ((1.0 - t) * logs[0] + t * logs[1])

        return interpolate(self.primordial) + metallicity * interpolate(self.metals)


# --------------------------------------------------------------------------- densities

@dataclass(frozen=True)
class Composition:
    """Mass fractions and electron/hydrogen counts of a fully ionised H + He + metals gas.

    ``hydrogen`` X, ``helium`` Y and ``metals`` Z (mass fractions, X + Y + Z = 1) and
    ``mu``; ``electrons_per_mh`` = n_e m_H / rho and ``hydrogen_per_mh`` = n_H m_H / rho.
    """
    hydrogen: float
    helium: float
    metals: float
    mu: float
    electrons_per_mh: float
    hydrogen_per_mh: float


def composition(hydrogen_fraction, mu):
    """The composition a run's ``hydro.hydrogen_fraction`` X and ``hydro.mu`` imply, for a
    fully ionised gas of H, He and metals (each metal nucleus of mass A m_H bringing
    Z_i ~ A/2 electrons and 1 << A/2 nuclei, the usual approximation):

        n_H = X rho / m_H
        n_e = (X + Y/2 + Z/2) rho / m_H = (1 + X) rho / (2 m_H)
        1/mu = 2X + 3Y/4 + Z/2          (particles per m_H: electrons plus nuclei)
        =>  Y = 4/mu - 6X - 2,  Z = 1 - X - Y = 3 + 5X - 4/mu

    n_e and n_H need only X; mu fixes the split of 1 - X between He and metals (and the
    temperature hydro writes, T = mu m_H p / (rho k)). ValueError if X is outside (0, 1]
    or mu <= 0; Y and Z are returned as computed even where the pair (X, mu) is not
    self-consistent (Y or Z < 0, e.g. hydro's defaults X = 0.7, mu = 0.6 give Z = -0.17:
    mu = 0.6 is a rounded value; a metal-free fully ionised gas with X = 0.7 has mu = 0.615).
    """
    x, mu = float(hydrogen_fraction), float(mu)
    if not (0.0 < x <= 1.0) or not (mu > 0.0) or not math.isfinite(mu):
        raise ValueError(f"need 0 < hydrogen_fraction <= 1 and mu > 0, got {x}, {mu}")
    helium = 4.0 / mu - 6.0 * x - 2.0
    return Composition(hydrogen=x, helium=helium, metals=1.0 - x - helium, mu=mu,
                       electrons_per_mh=0.5 * (1.0 + x), hydrogen_per_mh=x)


def number_densities(density, hydrogen_fraction):
    """(n_e, n_H) in cm^-3 from ``density`` in g cm^-3 (floats or arrays) for a fully
    ionised H + He + metals gas of hydrogen mass fraction X (see :func:`composition`):
    n_e = (1 + X) rho / (2 m_H), n_H = X rho / m_H."""
    rho = np.asarray(density, dtype=np.float64)
    x = float(hydrogen_fraction)
    return 0.5 * (1.0 + x) * rho / HYDROGEN_MASS, x * rho / HYDROGEN_MASS


def run_composition(snapshot):
    """:class:`Composition` of the run that wrote ``snapshot`` (a path or a yt dataset),
    from ``hydro.hydrogen_fraction`` and ``hydro.mu`` in the ``params_yaml`` attribute of
    its ``/hydro_restart`` group. ValueError if the file is not a hydro snapshot."""
    import yaml

    path = getattr(snapshot, "parameter_filename", snapshot)
    with h5py.File(path, "r") as f:
        group = f.get("hydro_restart")
        text = None if group is None else group.attrs.get("params_yaml")
    if text is None:
        raise ValueError(f"{path}: no /hydro_restart params_yaml (not a hydro snapshot)")
    params = yaml.safe_load(text.decode() if isinstance(text, bytes) else text)
    hydro = (params or {}).get("hydro", {}) if isinstance(params, dict) else {}
    try:
        return composition(hydro["hydrogen_fraction"], hydro["mu"])
    except KeyError as e:
        raise ValueError(f"{path}: params_yaml has no hydro.{e.args[0]}") from None


# --------------------------------------------------------------------------- yt fields

def add_xray_fields(ds, e_min, e_max, table=None, metallicity=1.0, hydrogen_fraction=None):
    """Define ("gas", "xray_emissivity_{e_min}_{e_max}_keV") [erg s^-1 cm^-3],
    ("gas", "xray_photon_emissivity_...") [photons s^-1 cm^-3] and
    ("gas", "xray_luminosity_...") [erg s^-1] on yt dataset ``ds``; return their names.

    The same names and band sums as yt's ``add_xray_emissivity_field``, but computed by
    :meth:`EmissivityTable.band` on plain floats (independent of np.digitize's unit
    handling), with n_e and n_H from the run's own hydrogen fraction (read from the
    snapshot unless ``hydrogen_fraction`` is given) instead of yt's X_H = 0.76.
    ``table``: an :class:`EmissivityTable`, a path, or None for the built-in table.
    ``metallicity``: a float in Zsun, or a field name whose values are in Zsun.
    Needs ("gas", "temperature") in K; evaluating a field over cells outside the table
    raises :class:`OutsideTableError`.
    """
    from yt.fields.field_detector import FieldDetector

    if not isinstance(table, EmissivityTable):
        table = EmissivityTable(table)
    table.check_band(e_min, e_max)
    x = (run_composition(ds).hydrogen if hydrogen_fraction is None
         else composition(hydrogen_fraction, 1.0).hydrogen)
    metal_field = None if isinstance(metallicity, (int, float)) else metallicity
    band = f"{e_min}_{e_max}_keV"

    def _per_volume(data, photons):
        temperature = data["gas", "temperature"].to_value("K")
        n_e, n_h = number_densities(data["gas", "density"].to_value("g/cm**3"), x)
        if isinstance(data, FieldDetector):  # yt's dry run with placeholder values
            return np.zeros_like(temperature)
        z = (float(metallicity) if metal_field is None
             else np.asarray(data[metal_field], dtype=np.float64))
        return n_e * n_h * table.band(e_min, e_max, temperature, z, photons=photons)

    def _emissivity(field, data):
        return data.ds.arr(_per_volume(data, False), "erg/cm**3/s")

    def _photon_emissivity(field, data):
        return data.ds.arr(_per_volume(data, True), "photons/cm**3/s")

    emissivity = ("gas", f"xray_emissivity_{band}")
    photons = ("gas", f"xray_photon_emissivity_{band}")
    luminosity = ("gas", f"xray_luminosity_{band}")

    def _luminosity(field, data):
        return data[emissivity] * data["gas", "cell_volume"]

    for name, function, units in ((emissivity, _emissivity, "erg/cm**3/s"),
                                  (photons, _photon_emissivity, "photons/cm**3/s"),
                                  (luminosity, _luminosity, "erg/s")):
        ds.add_field(name, function=function, sampling_type="local", units=units,
                     force_override=True)
    return [emissivity, photons, luminosity]
