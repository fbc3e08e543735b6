"""Tests of hydro.analysis.emissivity: the built-in X-ray continuum table.

Each check compares with something the module does not compute itself:
numbers typed from van Hoof et al.'s table, the Born limit of the Gaunt factor,
direct quadrature of the spectrum, the textbook bolometric free-free rate with
abundances typed here, densities from formulas written here, and yt's own
``add_xray_emissivity_field``.
"""

import math

import h5py
import numpy as np
import pytest
import unyt
import yt
from scipy.special import k0e

from hydro.analysis import emissivity as em
from hydro.io.gdf import SnapshotWriter

M_H = 1.6737352238051868e-24  # g
K_KEV = 8.617333262e-8  # Boltzmann constant in keV/K

# yt and unyt versions on which yt's add_xray_emissivity_field is known to fail because
# unyt made np.digitize unit-aware (shared/notes/yt-gdf-and-xray.md); anything else must
# work and agree with us, so a new release that breaks it fails here at once
KNOWN_BROKEN_YT_UNYT = {("4.4.3", "3.2.0")}

BAND_EDGES = em.DEFAULT_ENERGY_EDGES[(em.DEFAULT_ENERGY_EDGES >= 0.5 - 1e-9)
                                     & (em.DEFAULT_ENERGY_EDGES <= 8.0 + 1e-9)]


@pytest.fixture(scope="module")
def band_table(tmp_path_factory):
    """The default temperature grid with the default bins from 0.5 to 8 keV (each bin is
    computed on its own, so these are the default table's values)."""
    path = tmp_path_factory.mktemp("band") / em.TABLE_NAME
    em.build_table(path, em.DEFAULT_LOG_T, BAND_EDGES)
    return em.EmissivityTable(path)


@pytest.fixture(scope="module")
def small_table(tmp_path_factory):
    """A coarse temperature grid over the default energies, for checks at table nodes."""
    path = tmp_path_factory.mktemp("small") / em.TABLE_NAME
    em.build_table(path, np.linspace(4.0, 9.0, 21), em.DEFAULT_ENERGY_EDGES)
    return em.EmissivityTable(path)


# --------------------------------------------------------------------------- Gaunt factor

# <g_ff> at table nodes, typed from van Hoof et al. (2014) gauntff.dat:
# (log10 gamma^2, log10 u, value); an exchange of the axes gives other numbers
# (e.g. 5.0090319 instead of 0.853186132 for the first)
VAN_HOOF_NODES = [
    (-4.0, 0.0, 0.853186132),
    (-2.0, 0.4, 0.692518381),
    (2.0, -1.0, 1.28834684),
    (0.0, 2.0, 0.51716741),
    (4.0, 1.0, 1.02016743),
    (-6.0, -16.0, 20.7575626),
]


def test_gaunt_factor_at_van_hoof_table_nodes():
    for log_gamma2, log_u, value in VAN_HOOF_NODES:
        assert em.gaunt_ff(10.0 ** log_gamma2, 10.0 ** log_u) == pytest.approx(value,
                                                                                rel=1e-9)


def test_gaunt_factor_between_nodes_follows_the_born_limit():
    """For gamma^2 << 1 the thermally averaged Gaunt factor tends to the Born value
    (sqrt(3)/pi) exp(u/2) K_0(u/2) (e.g. Karzas & Latter 1961; van Hoof et al. 2014,
    Sect. 3), with a Coulomb correction of order gamma ~ 1e-3 at gamma^2 = 10^-5.9.
    Points halfway between nodes in both directions: the cubic interpolation stays within
    1.9e-3 of it (linear interpolation would be 4.9e-3 off)."""
    log_u = np.arange(-7.9, 0.11, 0.2)
    u = 10.0 ** log_u
    born = math.sqrt(3.0) / math.pi * k0e(u / 2.0)
    gaunt = em.gaunt_ff(10.0 ** -5.9, u)
    assert np.max(np.abs(gaunt / born - 1.0)) < 3e-3


# --------------------------------------------------------------------------- band emissivity

def _quadrature(e_min, e_max, temperature, metallicity):
    """int_{e_min}^{e_max} j(E, T) dE of the continuous model: composite 8-point
    Gauss-Legendre on 200 equal parts of [e_min, min(e_max, e_min + 60 kT)] (beyond,
    the integrand is below e^-60 of its value at e_min)."""
    upper = min(e_max, e_min + 60.0 * K_KEV * temperature)
    nodes, weights = np.polynomial.legendre.leggauss(8)
    parts = np.linspace(e_min, upper, 201)
    half = 0.5 * np.diff(parts)
    energy = ((parts[:-1] + half)[:, None] + half[:, None] * nodes).ravel()
    w = (half[:, None] * weights).ravel()
    spectrum = (em.free_free_spectrum(energy, temperature, "primordial")
                + metallicity * em.free_free_spectrum(energy, temperature, "metals"))
    return float(np.sum(w * spectrum))


@pytest.mark.parametrize("e_min, e_max, log_t_min", [
    (0.5, 2.0, 5.0),      # every temperature from 1e5 K
    (2.0, 8.0, 5.5),      # E_min/kT < 90 from 2.6e5 K (see the module docstring)
    (0.505, 1.995, 6.2),  # edges inside bins: flat across a bin only where kT >> 0.01 keV
])
def test_band_emissivity_matches_quadrature_of_the_model(band_table, e_min, e_max,
                                                         log_t_min):
    """Table bins summed over the band and interpolated in log T (yt's scheme) against
    direct integration of the spectrum, halfway between the 0.004 dex temperature nodes
    (where interpolation is worst), 1e5 K (3e5 K for 2-8 keV, 1.6e6 K for a band cutting
    bins) to 1e9 K: 1e-3 relative. Measured: 6.1e-4 at 1e5 K for 0.5-2 keV, 9.8e-4 at
    2.5e5 K for 2-8 keV, 7e-4 at 1.6e6 K for 0.505-1.995 keV; all < 3e-5 above 1e7 K."""
    nodes = band_table.log_t
    log_t = (nodes[:-1] + 0.5 * np.diff(nodes))[(nodes[:-1] >= log_t_min)][::25]
    log_t = np.append(log_t, nodes[-1])  # and the top node, 1e9 K
    temperature = 10.0 ** log_t
    metallicity = 0.5
    table = band_table.band(e_min, e_max, temperature, metallicity)
    direct = np.array([_quadrature(e_min, e_max, t, metallicity) for t in temperature])
    error = np.abs(table / direct - 1.0)
    assert error.max() < 1e-3, (temperature[error.argmax()], error.max())


def test_photon_band_is_the_energy_band_over_the_bin_energies(band_table):
    t = np.array([2e6, 3e7])
    photons = band_table.band(2.0, 2.01, t, photons=True)  # a single bin
    energy = band_table.band(2.0, 2.01, t)
    np.testing.assert_allclose(photons, energy / (2.005 * 1.602176634e-9), rtol=1e-12)


# --------------------------------------------------------------------------- bolometric

# Asplund et al. (2009) Table 1, log10(n/n_H) + 12, the elements that matter for the
# free-free rate (typed here, apart from the module)
ABUNDANCES = {2: 10.93, 6: 8.43, 7: 7.83, 8: 8.69, 10: 7.93, 11: 6.24, 12: 7.60, 13: 6.45,
              14: 7.51, 16: 7.12, 18: 6.40, 20: 6.34, 26: 7.50, 28: 6.22}


def test_free_free_follows_the_bolometric_rate(small_table):
    """Rybicki & Lightman (1979) eq. 5.15b: the free-free power is
    1.4e-27 T^1/2 n_e n_i Z^2 g_B erg s^-1 cm^-3 with g_B between 1.1 and 1.5. The table
    summed over 0.1-20 keV, divided by that rate (Z^2 n_i / n_H summed with the abundances
    above, fully ionised) times the fraction exp(-0.1 keV/kT) - exp(-20 keV/kT) of the
    power in the table's energies, gives g_B: within 1.1-1.5 from 3e6 to 1e8 K, where the
    table holds most of the power, for H + He and for the metals alone."""
    z2_primordial = 1.0 + 4.0 * 10.0 ** (ABUNDANCES[2] - 12.0)
    z2_metals = sum(z * z * 10.0 ** (a - 12.0) for z, a in ABUNDANCES.items() if z > 2)
    widths = np.diff(small_table.edges)
    for log_t in (6.5, 7.0, 7.5, 8.0):
        i = int(np.argmin(np.abs(small_table.log_t - log_t)))
        temperature = 10.0 ** small_table.log_t[i]
        kt = K_KEV * temperature
        fraction = math.exp(-0.1 / kt) - math.exp(-20.0 / kt)
        rate = 1.4e-27 * math.sqrt(temperature) * fraction
        g_primordial = small_table.primordial[i] @ widths / (rate * z2_primordial)
        g_metals = small_table.metals[i] @ widths / (rate * z2_metals)
        assert 1.1 < g_primordial < 1.5, (temperature, g_primordial)
        assert 1.1 < g_metals < 1.5, (temperature, g_metals)


# --------------------------------------------------------------------------- table layout

def test_table_layout_is_what_yt_reads(small_table):
    with h5py.File(small_table.path, "r") as f:
        assert int(f.attrs["version"]) == 3
        info = f.attrs["info"]
        info = info.decode() if isinstance(info, bytes) else info
        for words in ("CONTINUUM ONLY", "No emission lines", "recombination",
                      "Asplund", "van Hoof", "fully ionised", "relativistic"):
            assert words in info
        log_t, edges = f["log_T"][:], f["E"][:]
        n_t, n_e = log_t.size, edges.size - 1
        np.testing.assert_allclose(np.diff(log_t), (log_t[-1] - log_t[0]) / (n_t - 1),
                                   rtol=1e-12)
        assert log_t[0] <= 4.0 and log_t[-1] >= 9.0
        assert edges[0] <= 0.1 + 1e-12 and edges[-1] >= 20.0 - 1e-12
        assert np.all(np.diff(edges) > 0) and np.diff(edges).max() <= 0.02 + 1e-12
        for name in ("emissivity_primordial", "emissivity_metals"):
            values = f[name][:]
            assert values.shape == (n_t, n_e) and values.dtype == np.float64
            assert np.all(values > 0) and np.all(np.isfinite(values))

    from yt.fields.xray_emission_fields import XrayEmissivityIntegrator
    integrator = XrayEmissivityIntegrator("apec", data_dir=str(small_table.path.parent))
    np.testing.assert_array_equal(integrator.log_T, small_table.log_t)
    np.testing.assert_array_equal(integrator.ebin.to_value("keV"), small_table.edges)
    np.testing.assert_array_equal(integrator.emissivity_metals, small_table.metals)


# --------------------------------------------------------------------------- yt fields

X_RUN, MU_RUN = 0.7, 0.6
N_CELLS = 12


def _write_snapshot(path, temperature):
    """A 1D GDF snapshot of N_CELLS cells (0.1 pc each) with density and temperature,
    and the run parameters hydro stores."""
    t = np.asarray(temperature, dtype=np.float64).reshape(1, 1, -1)
    rho = np.linspace(1.0, 4.0, t.size).reshape(1, 1, -1) * 1e-24
    params = f"problem: test\nhydro:\n  gamma: 1.6666666666666667\n  mu: {MU_RUN}\n" \
             f"  hydrogen_fraction: {X_RUN}\n"
    with SnapshotWriter(path, dimensionality=1, domain_dims=(t.size, 1, 1),
                        domain_left=(0.0, 0.0, 0.0), domain_right=(0.1 * t.size, 1.0, 1.0),
                        time=0.0, cycle=0, boundary_codes=(2, 2, 0, 0, 0, 0),
                        field_units={"density": "g/cm**3", "temperature": "K"},
                        units={"length_unit": (1.0, "pc"), "mass_unit": (1.0, "Msun"),
                               "time_unit": (1.0, "yr")},
                        restart_attrs={"params_yaml": params}, n_grids=1) as writer:
        writer.write_grid(0, (0, 0, 0), {"density": rho, "temperature": t},
                          np.zeros((5, 1, 1, t.size)))
    return rho.ravel()


@pytest.fixture
def snapshot(tmp_path):
    yt.set_log_level("error")
    path = tmp_path / "snap.00001.h5"
    temperature = np.logspace(5.0, 9.0, N_CELLS)
    _write_snapshot(path, temperature)
    return path, temperature


def test_fields_use_the_runs_own_hydrogen_fraction(snapshot, band_table):
    """n_e = (1 + X) rho / (2 m_H) and n_H = X rho / m_H with the run's X = 0.7 (yt's
    default would be 0.76), times the table's band emissivity."""
    path, temperature = snapshot
    ds = yt.load(str(path))
    names = em.add_xray_fields(ds, 0.5, 2.0, table=band_table, metallicity=0.3)
    assert names[0] == ("gas", "xray_emissivity_0.5_2.0_keV")
    ad = ds.all_data()
    rho = ad["gas", "density"].to_value("g/cm**3")
    n_e, n_h = 0.85 * rho / M_H, 0.7 * rho / M_H
    expected = n_e * n_h * band_table.band(0.5, 2.0, temperature, 0.3)
    np.testing.assert_allclose(ad[names[0]].to_value("erg/(cm**3*s)"), expected, rtol=1e-12)
    volume = ad["gas", "cell_volume"].to_value("cm**3")
    np.testing.assert_allclose(ad[names[2]].to_value("erg/s"), expected * volume, rtol=1e-12)
    composition = em.run_composition(path)
    assert (composition.hydrogen, composition.mu) == (X_RUN, MU_RUN)


def test_yt_own_apec_function_agrees_or_fails_as_known(snapshot, band_table, monkeypatch):
    """yt's add_xray_emissivity_field on our table: it must work and give what we give
    (per n_e n_H), except on the yt/unyt pair known to fail in np.digitize, where it must
    fail exactly so; there yt's own computation is still checked against ours by handing
    it an np.digitize that strips the units."""
    path, temperature = snapshot
    key = (yt.__version__, unyt.__version__)

    def yt_per_ne_nh():
        ds = yt.load(str(path), default_species_fields="ionized")
        yt.add_xray_emissivity_field(ds, 0.5, 2.0, table_type="apec", metallicity=0.3,
                                     data_dir=str(band_table.path.parent))
        ad = ds.all_data()
        norm = (ad["gas", "H_nuclei_density"] * ad["gas", "El_number_density"]).to_value(
            "cm**-6")
        return ad["gas", "xray_emissivity_0.5_2.0_keV"].to_value("erg/(cm**3*s)") / norm

    ours = band_table.band(0.5, 2.0, temperature, 0.3)
    if key in KNOWN_BROKEN_YT_UNYT:
        with pytest.raises(unyt.exceptions.UnitConversionError) as failure:
            yt_per_ne_nh()
        assert "get_interpolator" in [entry.name for entry in failure.traceback]
        assert "digitize" in [entry.name for entry in failure.traceback]

        import yt.fields.xray_emission_fields as xray_fields

        class PlainDigitize:
            def __getattr__(self, name):
                return getattr(np, name)

            @staticmethod
            def digitize(x, bins):
                return np.digitize([float(v) for v in x], np.asarray(bins))

        monkeypatch.setattr(xray_fields, "np", PlainDigitize())
    np.testing.assert_allclose(yt_per_ne_nh(), ours, rtol=1e-10)


def test_temperatures_outside_the_table_are_reported(band_table, tmp_path):
    low, high = band_table.temperature_range
    assert np.all(band_table.band(0.5, 2.0, [low, high]) > 0)  # the ends are inside
    for bad in ([low * 0.999, 1e6], [1e6, high * 1.001], [np.nan, 1e6]):
        with pytest.raises(em.OutsideTableError, match="1 of 2 temperatures outside"):
            band_table.band(0.5, 2.0, bad)
    with pytest.raises(ValueError, match="outside the table"):
        band_table.band(0.3, 2.0, [1e6])
    with pytest.raises(ValueError, match="e_min < e_max"):
        band_table.band(2.0, 2.0, [1e6])

    yt.set_log_level("error")
    path = tmp_path / "cold.h5"
    _write_snapshot(path, np.logspace(3.0, 7.0, N_CELLS))  # cells below 1e4 K
    ds = yt.load(str(path))
    names = em.add_xray_fields(ds, 0.5, 2.0, table=band_table)
    with pytest.raises(em.OutsideTableError, match="temperatures outside"):
        ds.all_data()[names[0]]


# --------------------------------------------------------------------------- densities

def test_composition_from_hydrogen_fraction_and_mu():
    """A fully ionised X = 0.7, Y = 0.28, Z = 0.02 gas has 1/mu = 2X + 3Y/4 + Z/2;
    the helper recovers Y and Z from (X, mu), and n_e = (X + Y/2 + Z/2) rho / m_H."""
    x, y, z = 0.7, 0.28, 0.02
    mu = 1.0 / (2.0 * x + 0.75 * y + 0.5 * z)
    c = em.composition(x, mu)
    assert (c.hydrogen, c.helium, c.metals) == pytest.approx((x, y, z), abs=1e-12)
    n_e, n_h = em.number_densities(np.array([2e-24]), x)
    assert n_e[0] == pytest.approx((x + y / 2 + z / 2) * 2e-24 / M_H, rel=1e-12)
    assert n_h[0] == pytest.approx(x * 2e-24 / M_H, rel=1e-12)
    with pytest.raises(ValueError):
        em.composition(0.0, 0.6)


# --------------------------------------------------------------------------- cache

def test_built_table_is_cached_per_user_once(tmp_path, monkeypatch):
    cache, work = tmp_path / "cache", tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(em, "DEFAULT_LOG_T", np.linspace(4.0, 9.0, 11))
    monkeypatch.setattr(em, "DEFAULT_ENERGY_EDGES", np.arange(1, 201) / 10.0)

    def interrupted(*args):  # a build that fails half-way through writing
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(em, "table_info", interrupted)
        with pytest.raises(KeyboardInterrupt):
            em.ensure_table()
    assert list(em.default_table_dir().iterdir()) == []  # nothing half-written is left

    path = em.ensure_table()
    assert path.name == "apec_emissivity_v3.h5" and cache / "hydro" in path.parents
    assert list(work.iterdir()) == []
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    built = path.stat().st_mtime_ns
    assert em.ensure_table() == path and path.stat().st_mtime_ns == built  # not rebuilt

    monkeypatch.setattr(em, "DEFAULT_LOG_T", np.linspace(4.0, 9.0, 21))
    assert em.ensure_table() != path  # another grid never reuses a stale table

    assert em.ensure_table(path) == path  # a user's own table is used as given
    with pytest.raises(FileNotFoundError):
        em.ensure_table(tmp_path / "missing" / "apec_emissivity_v3.h5")
