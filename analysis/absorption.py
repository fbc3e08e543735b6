"""Photoelectric absorption of X-rays by the foreground interstellar medium.

A source seen through a hydrogen column N_H (cm^-2) of cold interstellar gas
and dust is dimmed at photon energy E by the transmission

    T(E) = exp(-N_H sigma(E)),

where sigma(E) is the photoabsorption cross section of the interstellar
mixture *per hydrogen atom* (cm^2; the metals, helium, molecules and grains
are all counted per H). Three models:

``tbabs`` (the default)
    Wilms, Allen & McCray (2000, ApJ 542, 914; "WAM00"): their ISM abundances
    (Table 2), gas/grain depletions (Table 2), 20% of the hydrogen in H2, and
    grains with an MRN size distribution whose self-shielding lowers the
    cross section of the depleted metals (formulae in their Appendix).
    Rebuilt here from the per-element photoabsorption cross sections of Elam,
    Ravel & Sieber (2002, Radiat. Phys. Chem. 63, 121) as shipped by the
    ``xraydb`` package, not from Verner et al. (1996) as the published model
    is; see ``tbabs_components`` for every choice and approximation. The
    result is tabulated in ``data/absorption_tbabs.txt`` (regenerate with
    ``python -m hydro.analysis.absorption``), so that nothing is computed or
    downloaded at run time and ``xraydb`` is needed only to rebuild it.
    Away from absorption edges it agrees with the published model to 2.3%
    over 0.3-10 keV (the tests hold it to 5%). Close to the edges the point
    values differ by more than 5% where the two put an edge at different
    energies or only tbabs has near-edge structure: N K 0.405-0.410 keV,
    O 0.525-0.562 keV (tbabs has the O 1s-2p resonance at 0.527 keV and
    laboratory structure above the edge), Fe L 0.707-0.730, Ne K
    0.866-0.870, Mg K 1.303-1.310, Si K 1.840-1.845, S K 2.473-2.477 and
    Fe K 7.112-7.123 keV (the edge is at 7.112 keV here, after Elam and
    Bearden & Burr, at 7.12 keV in tbabs; C K is at 0.284 keV here, 0.291
    keV in tbabs). Averaged over bins 0.1 keV wide from 0.3 to 10 keV the
    two differ by 8% at most (the 0.5-0.6 keV bin), 5% or less elsewhere.

``wabs``
    Morrison & McCammon (1983, ApJ 270, 119; "MM83"), Table 2: 14 energy
    bands over 0.03-10 keV, in each

        sigma(E) = (c0 + c1 E + c2 E^2) E^-3 x 1e-24 cm^2 per H,  E in keV,

    for the solar abundances of Anders & Ebihara (1982) with no grains.
    Above 10 keV, where MM83 give no coefficients, sigma continues as
    sigma(10 keV) (10 keV / E)^3 (the coefficients of the last band frozen
    at 10 keV, as the wabs table shipped by the astromodels package does).

``none``
    T(E) = 1.

Absorption must be applied per energy bin *before* any band sum (the
transmission changes by orders of magnitude across a band when N_H ~ 1e23):
``bin_transmission`` gives the transmission averaged over each bin of an
emissivity table, with the absorption edges inside a bin resolved.
"""

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

MODELS = ("tbabs", "wabs", "none")
DEFAULT_MODEL = "tbabs"

#: One line per model for file headers and plot titles (each under 68
#: characters, the room a FITS header card gives a string).
CITATION = {
    "tbabs": "Wilms+2000 ApJ 542 914 (tbabs) from Elam cross sections (xraydb)",
    "wabs": "Morrison & McCammon 1983 ApJ 270 119 (wabs)",
    "none": "no foreground absorption",
}

#: The table of the tbabs cross section that ``build_tbabs_table`` writes.
TBABS_TABLE = Path(__file__).resolve().parent / "data" / "absorption_tbabs.txt"

# ---------------------------------------------------------------------------
# wabs: Morrison & McCammon (1983), Table 2
# ---------------------------------------------------------------------------

#: Band edges of MM83 Table 2 (keV); band i runs from edge i to edge i + 1.
#: The inner edges are absorption edges: C K, N K, O K, Fe L, Ne K, Mg K,
#: Si K, S K, Ar K, Ca K, Fe K, Ni K.
MM83_BAND_EDGES_KEV = np.array([
    0.030, 0.100, 0.284, 0.400, 0.532, 0.707, 0.867, 1.303,
    1.840, 2.471, 3.210, 4.038, 7.111, 8.331, 10.000,
])

#: MM83 Table 2: c0, c1 (keV^-1), c2 (keV^-2) of each band, in the units that
#: give sigma(E) E^3 in 1e-24 cm^2 keV^3.
MM83_COEFFICIENTS = np.array([
    [17.3, 608.1, -2150.0],   # 0.030 - 0.100 keV
    [34.6, 267.9, -476.1],    # 0.100 - 0.284
    [78.1, 18.8, 4.3],        # 0.284 - 0.400
    [71.4, 66.8, -51.4],      # 0.400 - 0.532
    [95.5, 145.8, -61.1],     # 0.532 - 0.707
    [308.9, -380.6, 294.0],   # 0.707 - 0.867
    [120.6, 169.3, -47.7],    # 0.867 - 1.303
    [141.3, 146.8, -31.5],    # 1.303 - 1.840
    [202.7, 104.7, -17.0],    # 1.840 - 2.471
    [342.7, 18.7, 0.0],       # 2.471 - 3.210
    [352.2, 18.7, 0.0],       # 3.210 - 4.038
    [433.9, -2.4, 0.75],      # 4.038 - 7.111
    [629.0, 30.9, 0.0],       # 7.111 - 8.331
    [701.2, 25.2, 0.0],       # 8.331 - 10.000
])

WABS_MIN_KEV = float(MM83_BAND_EDGES_KEV[0])
WABS_MM83_MAX_KEV = float(MM83_BAND_EDGES_KEV[-1])


def sigma_wabs(energy_keV):
    """Morrison & McCammon (1983) cross section per H atom (cm^2).

    sigma(E) = (c0 + c1 E + c2 E^2) E^-3 1e-24 cm^2 with the coefficients of
    the band of MM83 Table 2 that holds E (keV). A band edge belongs to the
    band above it (the edge is open at its own energy). Above 10 keV the
    last band is frozen at 10 keV: sigma = (c0 + 10 c1 + 100 c2) E^-3 1e-24.
    Energies below 0.03 keV (MM83's range) raise ValueError.
    """
    e = _energies(energy_keV, WABS_MIN_KEV, math.inf, "wabs")
    band = np.searchsorted(MM83_BAND_EDGES_KEV, e, side="right") - 1
    band = np.minimum(band, len(MM83_COEFFICIENTS) - 1)
    c0, c1, c2 = MM83_COEFFICIENTS[band].T
    e_poly = np.minimum(e, WABS_MM83_MAX_KEV)
    return (c0 + c1 * e_poly + c2 * e_poly**2) / e**3 * 1e-24


# ---------------------------------------------------------------------------
# tbabs: Wilms, Allen & McCray (2000)
# ---------------------------------------------------------------------------

#: The 18 elements of the tbabs model with WAM00 Table 2: the ISM abundance
#: as 12 + log10(n_Z / n_H), and the depletion factor, the fraction of the
#: element left in the gas phase (the rest, 1 - that, is in grains).
#: WAM00 Table 2 also lists P, Ti and Mn; the published tbabs model leaves
#: them out, and so does this one (together they add < 0.1% to sigma).
WILMS_ISM = {
    #      12+log A   gas fraction
    "H":  (12.00, 1.0),
    "He": (10.99, 1.0),
    "C":  (8.38, 0.5),
    "N":  (7.88, 1.0),
    "O":  (8.69, 0.6),
    "Ne": (7.94, 1.0),
    "Na": (6.16, 0.25),
    "Mg": (7.40, 0.2),
    "Al": (6.33, 0.02),
    "Si": (7.27, 0.1),
    "S":  (7.09, 0.6),
    "Cl": (5.12, 0.5),
    "Ar": (6.41, 1.0),
    "Ca": (6.20, 0.003),
    "Cr": (5.51, 0.03),
    "Fe": (7.43, 0.3),
    "Co": (4.92, 0.05),
    "Ni": (6.05, 0.04),
}

#: Fraction of the hydrogen nuclei in H2 molecules, 2 N(H2) / N_H (WAM00).
WILMS_H2_FRACTION = 0.2
#: Grains (WAM00): density (g cm^-3) and the MRN (Mathis, Rumpl &
#: Nordsieck 1977) size distribution dn/da ~ a^-3.5 from 0.025 to 0.25 um.
WILMS_GRAIN_DENSITY = 1.0
WILMS_GRAIN_A_MIN_CM = 0.025e-4
WILMS_GRAIN_A_MAX_CM = 0.25e-4
WILMS_GRAIN_SIZE_INDEX = 3.5

#: Energy range of the tbabs table (keV): the Elam tables start at 0.1 keV.
TBABS_MIN_KEV = 0.1
TBABS_MAX_KEV = 100.0
_TBABS_POINTS_PER_DECADE = 400
_ATOMIC_MASS_UNIT_G = 1.66053906660e-24


def sigma_h2_yan(energy_keV):
    """Photoionisation cross section of the H2 molecule (cm^2 per molecule).

    Yan, Sadeghpour & Dalgarno (1998, ApJ 496, 1044), their fit above 85 eV:
    sigma = 45.57 E^-3.5 (1 - 2.003 x^-1/2 - 4.806 x^-1 + 50.577 x^-3/2
    - 171.044 x^-2 + 231.608 x^-5/2 - 81.885 x^-3) barn, E in keV and
    x = E / 15.4 eV. The same fit is what tbabs uses for H2.
    """
    e = np.asarray(energy_keV, dtype=float)
    y = 1.0 / np.sqrt(e / 0.0154)      # x^-1/2
    series = 1.0 + y * (-2.003 + y * (-4.806 + y * (50.577 + y * (
        -171.044 + y * (231.608 + y * -81.885)))))
    return 45.57 * e**-3.5 * series * 1e-24


def grain_cross_section(sigma_mean, mass_mean, mass_per_h):
    """Cross section per H atom (cm^2) of the grains, with self-shielding.

    WAM00 (their Appendix): a grain of radius a is a sphere of the depleted atoms
    (mean cross section sigma_mean per atom, mean mass mass_mean in g) at
    density rho; its column through the mean chord 4a/3 has optical depth
    tau(a) = (4/3) a rho sigma_mean / mass_mean, and its cross section is
    pi a^2 (1 - exp(-tau)) (-> the sum of its atoms' for tau << 1). The
    number of grains per H, n(a) da ~ a^-3.5 da between a_min and a_max, is
    set by the depleted mass per H atom, mass_per_h:
    integral n(a) (4/3) pi a^3 rho da = mass_per_h. The size integral is
    done by Gauss-Legendre quadrature in ln a (64 nodes).
    """
    nodes, weights = np.polynomial.legendre.leggauss(64)
    ln_lo, ln_hi = math.log(WILMS_GRAIN_A_MIN_CM), math.log(WILMS_GRAIN_A_MAX_CM)
    a = np.exp(0.5 * (ln_hi - ln_lo) * nodes + 0.5 * (ln_hi + ln_lo))
    da = 0.5 * (ln_hi - ln_lo) * weights * a          # da = a d(ln a)
    shape = a ** -WILMS_GRAIN_SIZE_INDEX
    rho = WILMS_GRAIN_DENSITY
    norm = mass_per_h / np.sum(shape * (4.0 / 3.0) * np.pi * a**3 * rho * da)
    n_da = norm * shape * da
    tau = (4.0 / 3.0) * rho * a[None, :] * (sigma_mean / mass_mean)[:, None]
    return np.sum(n_da * np.pi * a**2 * -np.expm1(-tau), axis=1)


def tbabs_components(energy_keV):
    """The tbabs cross section per H atom (cm^2) and its parts, from xraydb.

    sigma = sigma_gas + sigma_H2 + sigma_grains (WAM00), with
      sigma_gas    = sum_Z A_Z g_Z sigma_Z(E), hydrogen counted as
                     (1 - f_H2) of the H atoms,
      sigma_H2     = (f_H2 / 2) sigma_H2(E) (Yan et al. 1998),
      sigma_grains = the self-shielded grains of the depleted atoms
                     A_Z (1 - g_Z) (``grain_cross_section``),
    where A_Z and g_Z (gas fraction) are WAM00 Table 2 (``WILMS_ISM``) and
    f_H2 = 0.2. sigma_Z(E) is the photoabsorption cross section of element Z
    of Elam, Ravel & Sieber (2002) from ``xraydb.mu_elam(Z, E, 'photo')``
    (cm^2/g) times the atomic mass; tbabs itself uses Verner et al. (1996)
    for the metals, Yan et al. (1998) for He, a hydrogenic formula for H,
    and laboratory near-edge structure for O, Ne and Fe: that difference is
    the approximation here, 2.3% at most over 0.3-10 keV away from the
    edges. The grains' self-shielding changes sigma by 0.9% at most over
    0.3-10 keV and the H2 by 2% (at 0.3 keV).

    Returns a dict of arrays: total, gas, h2, grains. Needs ``xraydb``.
    """
    import warnings

    import xraydb

    e = _energies(energy_keV, TBABS_MIN_KEV, TBABS_MAX_KEV, "tbabs")
    e_ev = np.atleast_1d(e) * 1e3
    gas = np.zeros_like(e_ev)
    dust = np.zeros_like(e_ev)
    dust_atoms = dust_mass = 0.0
    for element, (log_abundance, gas_fraction) in WILMS_ISM.items():
        abundance = 10.0 ** (log_abundance - 12.0)
        mass = xraydb.atomic_mass(element) * _ATOMIC_MASS_UNIT_G
        with warnings.catch_warnings():   # 100 eV exactly is within the table
            warnings.simplefilter("ignore", UserWarning)
            sigma = xraydb.mu_elam(element, e_ev, kind="photo") * mass
        in_gas = abundance * gas_fraction
        if element == "H":
            in_gas *= 1.0 - WILMS_H2_FRACTION
        gas += in_gas * sigma
        in_dust = abundance * (1.0 - gas_fraction)
        dust += in_dust * sigma
        dust_atoms += in_dust
        dust_mass += in_dust * mass
    h2 = 0.5 * WILMS_H2_FRACTION * sigma_h2_yan(e_ev * 1e-3)
    grains = grain_cross_section(dust / dust_atoms, dust_mass / dust_atoms, dust_mass)
    shape = np.shape(e)
    return {
        "total": (gas + h2 + grains).reshape(shape),
        "gas": gas.reshape(shape),
        "h2": h2.reshape(shape),
        "grains": grains.reshape(shape),
    }


def tbabs_edges_keV():
    """Absorption edges (keV) of the tbabs elements inside the table's range,
    as the Elam tables of ``xraydb`` place them (needs ``xraydb``)."""
    import xraydb

    edges = set()
    for element in WILMS_ISM:
        for edge in xraydb.xray_edges(element).values():
            e = edge.energy * 1e-3
            if TBABS_MIN_KEV < e < TBABS_MAX_KEV:
                edges.add(round(e, 7))
    return np.array(sorted(edges))


def build_tbabs_table(path=TBABS_TABLE):
    """Write the tbabs table (``data/absorption_tbabs.txt``); needs xraydb.

    Rows: energy (keV) and sigma per H (cm^2) on a grid of 400 points per
    decade from 0.1 to 100 keV, plus two rows at each absorption edge with
    the same energy: the limit from below, then the limit from above.
    ``sigma_tbabs`` interpolates linearly in log sigma - log E between rows
    and never across an edge. Returns the path.
    """
    import xraydb

    edges = tbabs_edges_keV()
    decades = math.log10(TBABS_MAX_KEV / TBABS_MIN_KEV)
    grid = np.geomspace(TBABS_MIN_KEV, TBABS_MAX_KEV,
                        int(round(decades * _TBABS_POINTS_PER_DECADE)) + 1)
    # xraydb stores the Elam energies as ln E rounded to 1e-5, so an edge of
    # its table lies within 5e-6 of the edge energy it lists: the limits are
    # taken 1e-5 away (sigma changes by ~3e-5 over that), and edges of the
    # list without a jump in the photoabsorption table are dropped.
    step = 1e-5
    below = tbabs_components(edges * (1.0 - step))["total"]
    above = tbabs_components(edges * (1.0 + step))["total"]
    jump = above / below - 1.0 > 1e-6
    edges, below, above = edges[jump], below[jump], above[jump]
    grid = grid[np.all(np.abs(grid[:, None] / edges[None, :] - 1.0) > 1e-4, axis=1)]
    energies = np.concatenate([grid, edges, edges])
    sigma = np.concatenate([tbabs_components(grid)["total"], below, above])
    order = np.lexsort((np.arange(energies.size), energies))
    energies, sigma = energies[order], sigma[order]
    path = Path(path)
    header = "\n".join([
        "Photoabsorption cross section per H atom of the interstellar medium, tbabs model",
        "of Wilms, Allen & McCray (2000, ApJ 542, 914): their Table 2 abundances and",
        "depletions, H2 fraction 0.2, MRN grains (0.025-0.25 um, a^-3.5, 1 g/cm^3) with",
        "self-shielding; element cross sections of Elam, Ravel & Sieber (2002) from",
        f"xraydb {xraydb.__version__} (mu_elam, kind='photo'), H2 of Yan et al. (1998).",
        "Written by hydro.analysis.absorption.build_tbabs_table (python -m",
        "hydro.analysis.absorption); do not edit. Two rows with the same energy are an",
        "absorption edge: the limit from below, then from above.",
        "columns: energy_keV sigma_cm2_per_H",
    ])
    tmp = path.with_name(path.name + ".tmp")
    np.savetxt(tmp, np.column_stack([energies, sigma]), fmt="%.9e", header=header)
    tmp.replace(path)
    _tbabs_table.cache_clear()
    return path


@lru_cache(maxsize=1)
def _tbabs_table():
    data = np.loadtxt(TBABS_TABLE)
    return data[:, 0].copy(), np.log(data[:, 1])


def sigma_tbabs(energy_keV):
    """tbabs cross section per H atom (cm^2) at energies 0.1-100 keV.

    Interpolated linearly in (log E, log sigma) in ``data/absorption_tbabs.txt``
    (written by ``build_tbabs_table``; within 2e-4 of ``tbabs_components``).
    At an edge's own energy the value above the edge is returned. Energies
    outside 0.1-100 keV raise ValueError.
    """
    e = _energies(energy_keV, TBABS_MIN_KEV, TBABS_MAX_KEV, "tbabs")
    table_e, log_sigma = _tbabs_table()
    # the interval [table_e[i], table_e[i+1]) holding e; at an edge (two rows
    # with one energy) 'right' picks the interval above it, never the empty one
    i = np.clip(np.searchsorted(table_e, e, side="right") - 1, 0, len(table_e) - 2)
    x0, x1 = np.log(table_e[i]), np.log(table_e[i + 1])
    w = (np.log(e) - x0) / (x1 - x0)
    return np.exp(log_sigma[i] + w * (log_sigma[i + 1] - log_sigma[i]))


def edges_keV(model=DEFAULT_MODEL):
    """Energies (keV) where sigma(E) of a model jumps (empty for ``none``)."""
    model = check_model(model)
    if model == "wabs":
        return MM83_BAND_EDGES_KEV[1:-1].copy()
    if model == "tbabs":
        table_e, _ = _tbabs_table()
        return table_e[1:][np.diff(table_e) == 0.0]
    return np.empty(0)


# ---------------------------------------------------------------------------
# The interface for the maps and spectra
# ---------------------------------------------------------------------------

def check_model(model):
    """Return the model name, or raise ValueError for an unknown one."""
    if model not in MODELS:
        raise ValueError(
            f"unknown absorption model {model!r}: choose one of {', '.join(MODELS)}")
    return model


def check_column(n_h):
    """Return N_H as a float in cm^-2; ValueError if negative or not finite.

    Accepts a number (cm^-2) or a quantity with units (anything with
    ``to_value``, e.g. unyt's ``1e22 * cm**-2``).
    """
    if hasattr(n_h, "to_value"):
        n_h = n_h.to_value("cm**-2")
    try:
        value = float(n_h)
    except (TypeError, ValueError):
        raise ValueError(f"N_H must be a number in cm^-2, not {n_h!r}") from None
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"N_H must be a finite column >= 0 cm^-2, not {value:g}")
    return value


def cross_section(energy_keV, model=DEFAULT_MODEL):
    """Photoabsorption cross section per H atom (cm^2) of a model at E (keV).

    ``tbabs``: ``sigma_tbabs``; ``wabs``: ``sigma_wabs``; ``none``: zero.
    """
    model = check_model(model)
    if model == "tbabs":
        return sigma_tbabs(energy_keV)
    if model == "wabs":
        return sigma_wabs(energy_keV)
    return np.zeros_like(_energies(energy_keV, 0.0, math.inf, "none"))


def transmission(energy_keV, n_h, model=DEFAULT_MODEL):
    """Transmitted fraction exp(-N_H sigma(E)) at energies E (keV).

    N_H in cm^-2 (0 allowed: everything is transmitted); a negative N_H or an
    unknown model raises ValueError.
    """
    n_h = check_column(n_h)
    sigma = cross_section(energy_keV, model)
    return np.exp(-n_h * sigma)


def bin_transmission(bin_edges_keV, n_h, model=DEFAULT_MODEL):
    """Transmission averaged over each energy bin, for binned spectra.

        T_i = (1 / (E_i+1 - E_i)) integral_{E_i}^{E_i+1} exp(-N_H sigma(E)) dE

    for the n bins between n + 1 increasing edges (keV). Multiply each bin's
    emission by T_i before summing a band. The integral is split at the
    model's absorption edges (and, for tbabs, at the nodes of its table, so
    that sigma is a smooth power law on each piece), each piece into
    sub-intervals at most 1% wide in E and 0.25 wide in optical depth, each
    with 4-point Gauss-Legendre quadrature: relative error < 1e-10 (measured
    against adaptive quadrature) wherever T_i > 1e-300.

    The average weighs the bin uniformly: for a spectrum S(E) that varies
    across a bin, sum_i T_i integral_i S differs from integral S T by the
    covariance of S and T inside the bins, a relative error of order
    (dE^2 / 12) (d ln S / dE) (d ln T / dE) per bin. Bins 1% wide in E keep
    a thermal band flux within 5e-4 of the exact absorbed flux for
    N_H <= 1e23 cm^-2 and kT = 0.5-8 keV; 2% wide bins, within 2e-3.
    """
    edges = np.asarray(_energies(bin_edges_keV, 0.0, math.inf, "none"), dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0.0):
        raise ValueError("bin edges must be a 1D array of at least two increasing energies")
    n_h = check_column(n_h)
    model = check_model(model)
    if model == "none" or n_h == 0.0:
        cross_section(edges, model)           # still reject energies out of range
        return np.ones(edges.size - 1)
    cross_section(edges, model)
    breaks = edges_keV(model)
    if model == "tbabs":
        breaks = np.union1d(breaks, _tbabs_table()[0])
    lo, hi, owner = _smooth_pieces(edges, breaks, n_h, model)
    nodes, weights = np.polynomial.legendre.leggauss(4)
    half = 0.5 * (hi - lo)
    mid = 0.5 * (hi + lo)
    e = mid[:, None] + half[:, None] * nodes[None, :]
    t = np.exp(-n_h * cross_section(e.ravel(), model)).reshape(e.shape)
    integral = np.bincount(owner, weights=half * (t @ weights), minlength=edges.size - 1)
    return integral / np.diff(edges)


def _smooth_pieces(edges, breaks, n_h, model, max_ratio=1.01, max_dtau=0.25):
    """Cut the bins between ``edges`` at the ``breaks`` inside them, and each
    piece into equal sub-intervals at most ``max_ratio`` wide in E and
    ``max_dtau`` in optical depth (sigma is monotonic on a piece; where the
    piece is opaque, tau > 745, T is 0 in double precision and it is not cut
    for tau). Returns the sub-intervals' ends and the index of their bin."""
    points = np.union1d(edges, breaks[(breaks > edges[0]) & (breaks < edges[-1])])
    piece_lo, piece_hi = points[:-1], points[1:]
    owner = np.searchsorted(edges, piece_lo, side="right") - 1
    inside = 1e-9 * (piece_hi - piece_lo)
    tau_lo = n_h * cross_section(piece_lo + inside, model)
    tau_hi = n_h * cross_section(piece_hi - inside, model)
    count = np.ceil(np.log(piece_hi / piece_lo) / math.log(max_ratio))
    for_tau = np.ceil(np.abs(tau_lo - tau_hi) / max_dtau)
    count = np.where(np.minimum(tau_lo, tau_hi) < 745.0, np.maximum(count, for_tau), count)
    count = np.maximum(count, 1).astype(int)
    piece = np.repeat(np.arange(piece_lo.size), count)
    k = np.arange(piece.size) - np.repeat(np.cumsum(count) - count, count)
    width = (piece_hi - piece_lo)[piece] / count[piece]
    lo = piece_lo[piece] + k * width
    hi = np.where(k == count[piece] - 1, piece_hi[piece], lo + width)
    return lo, hi, owner[piece]


def _energies(energy_keV, e_min, e_max, model):
    """Energies as a float array in keV, checked to lie in [e_min, e_max]."""
    if hasattr(energy_keV, "to_value"):
        energy_keV = energy_keV.to_value("keV")
    e = np.asarray(energy_keV, dtype=float)
    if not np.all(np.isfinite(e)) or np.any(e <= 0.0):
        raise ValueError("photon energies must be finite and > 0 keV")
    if e.size and (e.min() < e_min or e.max() > e_max):
        raise ValueError(
            f"the {model} absorption model covers {e_min:g}-{e_max:g} keV, "
            f"not {e.min():g}-{e.max():g} keV")
    return e


if __name__ == "__main__":
    print(build_tbabs_table())
