"""Photoelectric absorption by the foreground ISM (hydro.analysis.absorption).

The cross sections are checked against published tables that this code never
reads: the tbabs and wabs cross sections that the astromodels package
(version 2.6.0, BSD-3-Clause) ships as astromodels/data/xsect/
xsect_tbabs_wilm.fits (Wilms, Allen & McCray 2000 with their abundances) and
xsect_wabs_angr.fits (Morrison & McCammon 1983). Their SIGMA column is per H
atom in units of 1e-22 cm^2 (the FITS header says cm^2; the wabs values at
1 keV, 2.42e-22 cm^2, fix the unit). The rows below are copied from those
files: the ENERGY of the row (keV, float32, given to 7 digits) and its SIGMA.
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad, simpson

from hydro.analysis import absorption

# (energy keV, sigma per H in 1e-22 cm^2): rows of xsect_tbabs_wilm.fits,
# 0.3-10 keV, none within 1.5% of an absorption edge.
TBABS_PUBLISHED = [
    (0.2999982, 27.31783),   # row 2073
    (0.4499325, 8.606905),   # row 2838
    (0.4999630, 6.297789),   # row 3037
    (0.5999200, 5.519695),   # row 3381
    (0.7999065, 2.774726),   # row 3924
    (0.9997988, 1.738480),   # row 4345
    (1.199687, 1.062657),    # row 4689
    (1.500277, 0.6065429),   # row 5111
    (2.000403, 0.2919068),   # row 5654
    (2.500292, 0.1665507),   # row 6075
    (3.000172, 0.09954640),  # row 6419
    (4.000296, 0.04462918),  # row 6962
    (4.999949, 0.02390293),  # row 7383
    (5.999581, 0.01414904),  # row 7727
    (6.999724, 0.008986626),  # row 8018
    (7.999574, 0.01280686),  # row 8270
    (8.998077, 0.009503906),  # row 8492
    (9.998624, 0.007080467),  # row 8691
]

# rows of xsect_wabs_angr.fits: one or more in each band of MM83 Table 2
# from 0.1 keV (where the file starts) to 10 keV, and three above 10 keV.
WABS_PUBLISHED = [
    (0.2000275, 86.38704),   # row 1308
    (0.2999982, 31.15875),   # row 2073
    (0.3500085, 19.87191),   # row 2364
    (0.4499325, 9.996275),   # row 2838
    (0.4999630, 7.357595),   # row 3037
    (0.5999200, 7.455662),   # row 3381
    (0.7999065, 3.762480),   # row 3924
    (0.9997988, 2.423314),   # row 4345
    (1.500277, 0.8606776),   # row 5111
    (2.000403, 0.4298840),   # row 5654
    (2.800482, 0.1798764),   # row 6289
    (3.500308, 0.09738681),  # row 6710
    (4.000296, 0.06670487),  # row 6962
    (5.999581, 0.02067540),  # row 7727
    (7.498844, 0.02041147),  # row 8148
    (7.999574, 0.01711575),  # row 8270
    (8.998077, 0.01273725),  # row 8492
    (11.99764, 0.005518481),  # row 9035
    (15.00373, 0.002822200),  # row 9457
    (19.89959, 0.001209481),  # row 9990
]

# K (and Fe L3) absorption edges, keV: Bearden & Burr (1967, Rev. Mod. Phys.
# 39, 125) as listed in the X-ray Data Booklet (Thompson et al. 2009, Table 1-1).
EDGES_KEV = {"C K": 0.2842, "O K": 0.5431, "Ne K": 0.8701, "Mg K": 1.3030,
             "Si K": 1.8389, "S K": 2.4720, "Fe K": 7.1120}

# The rise of sigma across each edge in the published tbabs table, measured
# as sigma E^2.6 at 1.005 E_edge over that at 0.995 E_edge (3% for C, whose
# tbabs edge lies 1% above Bearden's): C 0.05, O 0.43, Ne 0.11, Mg 0.058,
# Si 0.070, S 0.071, Fe K 1.05. The model must show at least 60% of each.
TBABS_MIN_JUMP = {"C K": 0.03, "O K": 0.26, "Ne K": 0.064, "Mg K": 0.035,
                  "Si K": 0.042, "S K": 0.043, "Fe K": 0.63}


def _rows(table):
    energy, sigma = np.array(table).T
    return energy, sigma * 1e-22


def test_wabs_matches_published_table():
    """The MM83 coefficients typed into the module give the published wabs
    cross section (0.2-20 keV, every band); measured: 2e-4 at most."""
    energy, published = _rows(WABS_PUBLISHED)
    rel = absorption.sigma_wabs(energy) / published - 1.0
    assert np.max(np.abs(rel)) < 1e-3, dict(zip(energy, rel))


def test_tbabs_matches_published_table():
    """tbabs rebuilt from Elam cross sections against the published tbabs,
    0.3-10 keV away from edges: measured 2.3% at most (0.3 keV), 1.9% over
    0.5-8 keV; the issue asks for 5%."""
    energy, published = _rows(TBABS_PUBLISHED)
    rel = absorption.sigma_tbabs(energy) / published - 1.0
    assert np.max(np.abs(rel)) < 0.05, dict(zip(energy, rel))


def test_transmission_is_exp_minus_column_times_published_sigma():
    """T = exp(-N_H sigma) with N_H in cm^-2 and sigma in cm^2 (a unit slip,
    1e-22 for 1e-24, or a column in 1e22 cm^-2 makes T wrong by e^100)."""
    for model, table, tol in (("wabs", WABS_PUBLISHED, 1e-3), ("tbabs", TBABS_PUBLISHED, 0.05)):
        energy, published = _rows(table)
        for n_h in (1e20, 1e21, 3e22):
            tau = absorption.transmission(energy, n_h, model)
            tau = -np.log(tau)
            np.testing.assert_allclose(tau, n_h * published, rtol=tol)
    assert np.all(absorption.transmission([0.3, 1.0, 7.0], 0.0) == 1.0)
    assert np.all(absorption.transmission([0.3, 1.0], 1e24, "none") == 1.0)


def test_tbabs_has_the_edges_and_falls_between_them():
    """Edges of C, O, Ne, Mg, Si, S and Fe K at their energies (within 0.1%),
    each a rise of at least 60% of the published one, and sigma strictly
    falling between consecutive edges (both models, on 20,000 energies)."""
    model_edges = absorption.edges_keV("tbabs")
    for name, e_edge in EDGES_KEV.items():
        assert np.min(np.abs(model_edges / e_edge - 1.0)) < 1e-3, name
        lo, hi = e_edge * 0.995, e_edge * 1.005
        jump = (absorption.sigma_tbabs(hi) * hi**2.6) / (absorption.sigma_tbabs(lo) * lo**2.6) - 1
        assert jump > TBABS_MIN_JUMP[name], (name, jump)
    # wabs: MM83's band edges are its absorption edges; sigma rises at each
    for e_edge in absorption.MM83_BAND_EDGES_KEV[2:-1]:
        below, above = absorption.sigma_wabs([e_edge * (1 - 1e-9), e_edge])
        assert above > below * 1.005, e_edge
    for model, e_lo, e_hi in (("tbabs", 0.1, 100.0), ("wabs", 0.03, 20.0)):
        edges = absorption.edges_keV(model)
        bounds = np.concatenate([[e_lo], edges, [e_hi]])
        energies = np.geomspace(e_lo, e_hi, 20001)
        for a, b in zip(bounds[:-1], bounds[1:]):
            e = energies[(energies > a) & (energies < b)]
            assert np.all(np.diff(absorption.cross_section(e, model)) < 0), (model, a, b)


def _band_flux_quadrature(band, kt, n_h, model):
    """Energy flux of S(E) = exp(-E/kT) through the column, by adaptive
    quadrature told where sigma jumps (to 1e-6)."""
    lo, hi = band
    jumps = [e for e in absorption.edges_keV(model) if lo < e < hi]

    def integrand(e):
        return math.exp(-e / kt) * math.exp(-n_h * float(absorption.cross_section(e, model)))

    value, _ = quad(integrand, lo, hi, points=jumps or None, limit=400,
                    epsabs=0.0, epsrel=1e-6)
    return value


@pytest.mark.parametrize("model", ["tbabs", "wabs"])
def test_absorbed_band_flux_of_an_isothermal_source(model):
    """A thermal (exp(-E/kT)) spectrum binned like an emissivity table (bins
    1% wide in E, integrated exactly), each bin times bin_transmission, summed
    over the band, against quadrature of S(E) exp(-N_H sigma(E)): 1e-3.
    Measured: 2.7e-4 (tbabs) and 3.2e-4 (wabs) at worst over the cases below
    (kT = 0.5 keV seen at 0.5-2 keV behind 1e23, where most of the band is
    opaque). The transmission at the bins' centres instead misses the edges
    inside bins: 4.3e-3 (tbabs) and 1.1e-2 (wabs); one transmission for the
    whole band, at its centre, is off by factors of 4 to 6."""
    edges = np.exp(np.arange(math.log(0.3), math.log(10.0) + 1e-9, 0.01))
    worst = 0.0
    for kt in (0.5, 2.0, 8.0):
        binned = kt * (np.exp(-edges[:-1] / kt) - np.exp(-edges[1:] / kt))
        for n_h in (1e21, 1e22, 1e23):
            t_bin = absorption.bin_transmission(edges, n_h, model)
            for band in ((0.5, 2.0), (2.0, 8.0)):
                inside = (edges[:-1] >= band[0] * 0.999) & (edges[1:] <= band[1] * 1.001)
                lo, hi = edges[:-1][inside][0], edges[1:][inside][-1]
                flux = np.sum(binned[inside] * t_bin[inside])
                exact = _band_flux_quadrature((lo, hi), kt, n_h, model)
                worst = max(worst, abs(flux / exact - 1.0))
    assert worst < 1e-3


def test_bin_transmission_is_the_mean_over_the_bin():
    """Wide bins, across edges (Fe K; O K, Fe L, Ne K; MM83 band edges on a
    bin's ends), from nearly clear to nearly opaque: the mean of
    exp(-N_H sigma) over each bin by Simpson's rule on 20,001 energies
    between each pair of jumps, to 1e-6 (measured: 1e-12 against adaptive
    quadrature told every node of the tbabs table)."""
    cases = (("tbabs", [6.0, 6.9, 8.0]), ("tbabs", [0.3, 0.5, 0.6, 0.7, 0.8, 1.5]),
             ("wabs", [0.707, 0.867, 1.303]), ("wabs", [0.1, 0.3, 0.5, 0.6, 1.5]))
    for model, bin_edges in cases:
        for n_h in (1e20, 1e22, 3e23):
            t = absorption.bin_transmission(bin_edges, n_h, model)
            for i, (a, b) in enumerate(zip(bin_edges[:-1], bin_edges[1:])):
                cuts = [a] + [e for e in absorption.edges_keV(model) if a < e < b] + [b]
                total = 0.0
                for lo, hi in zip(cuts[:-1], cuts[1:]):
                    e = np.linspace(lo, hi, 20001)
                    # the ends: sigma's limits from inside the piece
                    e[0], e[-1] = lo + 1e-12 * (hi - lo), hi - 1e-12 * (hi - lo)
                    total += simpson(np.exp(-n_h * absorption.cross_section(e, model)), x=e)
                mean = total / (b - a)
                assert t[i] == pytest.approx(mean, rel=1e-6, abs=0.0), (model, n_h, a, b)


def test_bad_input_is_a_value_error():
    """The CLI turns these into one line and exit status 2."""
    for bad in (-1.0, -1e22, float("nan"), float("inf"), "many"):
        with pytest.raises(ValueError, match="N_H"):
            absorption.transmission(1.0, bad)
        with pytest.raises(ValueError, match="N_H"):
            absorption.bin_transmission([1.0, 2.0], bad)
    with pytest.raises(ValueError, match="unknown absorption model"):
        absorption.transmission(1.0, 1e22, "phabs")
    with pytest.raises(ValueError, match="covers"):
        absorption.transmission(0.05, 1e22, "tbabs")   # below the table
    with pytest.raises(ValueError, match="covers"):
        absorption.bin_transmission([0.02, 0.5], 0.0, "wabs")
    with pytest.raises(ValueError, match="increasing"):
        absorption.bin_transmission([2.0, 1.0], 1e22)
    assert absorption.check_column(0) == 0.0


def test_column_with_units():
    unyt = pytest.importorskip("unyt")
    n_h = 1e22 * unyt.cm**-2
    assert absorption.check_column(n_h) == 1e22
    assert absorption.check_column(1e4 * unyt.m**-2) == pytest.approx(1.0, rel=1e-12, abs=0.0)


def test_shipped_tbabs_table_is_what_xraydb_gives():
    """The table in analysis/data is build_tbabs_table's output for the
    installed xraydb: values within 3e-4 (measured 1.7e-4) and the same edges."""
    pytest.importorskip("xraydb")
    rng = np.random.default_rng(17)
    energy = np.exp(rng.uniform(math.log(0.1), math.log(100.0), 60))
    edges = absorption.edges_keV("tbabs")
    energy = np.concatenate([energy, edges * (1 - 1e-4), edges * (1 + 1e-4)])
    direct = absorption.tbabs_components(energy)["total"]
    rel = absorption.sigma_tbabs(energy) / direct - 1.0
    assert np.max(np.abs(rel)) < 3e-4
    built = absorption.tbabs_edges_keV()
    assert set(np.round(edges, 7)) <= set(built)


def test_grain_shielding_limits():
    """WAM00's grains: for a transparent grain material the grains absorb as
    their atoms do (sum of the atoms' cross sections); for an opaque one they
    absorb their projected area, pi a^2 summed over the MRN distribution,
    which has a closed form: with n(a) = K a^-3.5 on [a0, a1] holding the
    mass M per H, K = M / ((4/3) pi rho 2 (a1^1/2 - a0^1/2)) and the area is
    2 pi K (a0^-1/2 - a1^-1/2). Both to 1e-6. (The shielding changes tbabs
    by 0.9% at most over 0.3-10 keV, and the H2 by 2%: both under what the
    5% comparison with the published table can see, hence this test.)"""
    mass_per_h, mass_atom = 1e-26, 3e-23
    rho = absorption.WILMS_GRAIN_DENSITY
    a0, a1 = absorption.WILMS_GRAIN_A_MIN_CM, absorption.WILMS_GRAIN_A_MAX_CM
    thin = absorption.grain_cross_section(np.array([1e-30]), mass_atom, mass_per_h)
    assert thin[0] == pytest.approx(mass_per_h / mass_atom * 1e-30, rel=1e-6, abs=0.0)
    k = mass_per_h / (4.0 / 3.0 * np.pi * rho * 2.0 * (math.sqrt(a1) - math.sqrt(a0)))
    area = 2.0 * np.pi * k * (a0**-0.5 - a1**-0.5)
    thick = absorption.grain_cross_section(np.array([1e-12]), mass_atom, mass_per_h)
    assert thick[0] == pytest.approx(area, rel=1e-6, abs=0.0)


def test_every_model_has_a_citation_that_fits_a_fits_card():
    assert set(absorption.CITATION) == set(absorption.MODELS)
    assert all(len(text) <= 68 and text.isascii() for text in absorption.CITATION.values())
