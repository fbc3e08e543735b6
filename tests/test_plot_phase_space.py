"""hydro plot on phase-space (vlasov) snapshots: images in the (z, v_z) plane, their
labels and units, and the phase-spiral contrast f / <f>_theta - 1.

Snapshots are fabricated here in the pinned format (``hydro.io.gdf.SnapshotWriter``
plus the vlasov attributes written with h5py), in a harmonic potential
Phi0 = nu^2 z^2 / 2 whose action-angle variables are known exactly: with
theta = atan2(nu z, v_z), f = f0(E) (1 + g(E) + A cos(m theta - phase)) has the
angle average f0(E) (1 + g(E)) and the contrast A cos(m theta - phase) / (1 + g).
"""

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yt

from hydro.io import gdf
from hydro.analysis import phase_space, plot

F_UNITS = "code_mass*code_time/code_length**4"
PHYSICAL = {"length_unit": (1.0, "kpc"), "mass_unit": (1.0, "Msun"), "time_unit": (1.0, "Myr")}
KMS_PER_KPC_MYR = 3.0856775814913673e16 / 3.15576e13  # 1 kpc/Myr in km/s (Julian year)
V_MAX = 100.0 / KMS_PER_KPC_MYR  # 100 km/s in kpc/Myr
NU = 0.08  # 1/Myr: about 78 km/s/kpc, the solar neighbourhood's vertical frequency
SIGMA2 = (30.0 / KMS_PER_KPC_MYR) ** 2  # velocity dispersion 30 km/s

yt.set_log_level("error")


def grid(nz=64, nv=64, z=(-2.5, 2.5), v=(-V_MAX, V_MAX)):
    """Cell centres Z, V [i_z, i_v] in code units, the energy, the angle and the edges."""
    zc = z[0] + (np.arange(nz) + 0.5) * (z[1] - z[0]) / nz
    vc = v[0] + (np.arange(nv) + 0.5) * (v[1] - v[0]) / nv
    Z, V = np.meshgrid(zc, vc, indexing="ij")
    energy = 0.5 * V ** 2 + 0.5 * NU ** 2 * Z ** 2
    theta = np.arctan2(NU * Z, V)
    return Z, V, energy, theta, (z, v)


def write_snapshot(path, f, delta_f, energy, edges, units=PHYSICAL, time=3.0,
                   system="vlasov", blocks=(1, 1)):
    """A phase-space snapshot in the pinned format; arrays are [i_z, i_v], written in
    ``blocks`` (along z, v_z) grids as an MPI run would."""
    (z_lo, z_hi), (v_lo, v_hi) = edges
    nz, nv = f.shape
    fields = {"f": f, "delta_f": delta_f, "energy": energy}
    bz, bv = blocks
    with gdf.SnapshotWriter(
            path, dimensionality=2, domain_dims=[nz, nv, 1], domain_left=[z_lo, v_lo, 0.0],
            domain_right=[z_hi, v_hi, 1.0], time=time, cycle=7, boundary_codes=[2] * 6,
            field_units={"f": F_UNITS, "delta_f": F_UNITS,
                         "energy": "code_length**2/code_time**2"},
            units=units, restart_attrs={}, n_grids=bz * bv) as writer:
        for gid, (i, j) in enumerate((i, j) for j in range(bv) for i in range(bz)):
            cells = (slice(i * nz // bz, (i + 1) * nz // bz),
                     slice(j * nv // bv, (j + 1) * nv // bv))
            block = {name: a[cells].T[None] for name, a in fields.items()}
            writer.write_grid(gid, [cells[0].start, cells[1].start, 0], block,
                              block["delta_f"][None].copy())
    with h5py.File(path, "r+") as h:
        attrs = h["simulation_parameters"].attrs
        attrs["system"] = system
        attrs["axis_names"] = "z,v_z"
        attrs["axis_units"] = "code_length,code_length/code_time"
    return Path(path)


def perturbed(m=1, amplitude=0.1, phase=0.7, **grid_args):
    """f = f0(E) (1 + g(E) + A cos(m theta - phase)) on a grid, with g(E) = 0.05 (1 - E
    / E_max) a change of the angle average; returns f, delta_f, energy, the expected
    contrast A cos(m theta - phase) / (1 + g) and the grid edges."""
    _, _, energy, theta, edges = grid(**grid_args)
    f0 = np.exp(-energy / SIGMA2)
    g = 0.05 * (1 - energy / energy.max())
    pattern = amplitude * np.cos(m * theta - phase)
    delta_f = f0 * (g + pattern)
    return f0 + delta_f, delta_f, energy, pattern / (1 + g), edges


def complete(energy):
    """Cells on orbits that stay on the grid (below the lowest energy of the outer ring)."""
    ring = np.concatenate([energy[0], energy[-1], energy[:, 0], energy[:, -1]])
    return energy <= ring.min() * (1 + 1e-9)


# --------------------------------------------------------------------------
# plots, labels, units
# --------------------------------------------------------------------------

def test_physical_run_plots_all_fields_with_labels_in_kpc_and_km_per_s(tmp_path):
    f, delta_f, energy, _, edges = perturbed()
    snap = write_snapshot(tmp_path / "ps.00003.h5", f, delta_f, energy, edges, blocks=(2, 3))
    for field in ("f", "delta_f", "contrast", "energy"):
        out = tmp_path / f"{field}.png"
        assert plot.main([str(snap), "--field", field, "--out", str(out)]) == 0
        assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert out.stat().st_size > 5000
    assert plot.main([str(snap), "--field", "f", "--log", "--out",
                      str(tmp_path / "log.png")]) == 0
    assert plot.main([str(snap), "--field", "contrast", "--log", "--out",
                      str(tmp_path / "clog.png")]) == 0

    ds = yt.load(str(snap))
    assert phase_space.is_phase_space(ds)
    fig = plot.phase_space_figure(ds, "f", title="t")
    ax, bar = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z [kpc]", "v_z [km/s]")
    assert bar.get_ylabel() == "f [Msun*s/(km*kpc**3)]"  # Msun / kpc^2 per kpc per km/s
    image = ax.images[0]
    np.testing.assert_allclose(image.get_extent(), [-2.5, 2.5, -100.0, 100.0], rtol=1e-9)
    # [i_v, i_z] as drawn (origin lower); f per (kpc km/s) is f per (kpc kpc/Myr) / 977.79
    np.testing.assert_allclose(image.get_array(), f.T / KMS_PER_KPC_MYR, rtol=1e-9)
    assert type(image.norm) is plot.Normalize
    assert image.norm.vmin == pytest.approx(f.min() / KMS_PER_KPC_MYR, rel=1e-9)

    for field, label in (("delta_f", "delta_f [Msun*s/(km*kpc**3)]"), ("contrast", "contrast")):
        ax, bar = plot.phase_space_figure(ds, field).axes
        assert bar.get_ylabel() == label
        image = ax.images[0]
        assert image.cmap.name.startswith("RdBu_r")
        assert image.norm.vmin == -image.norm.vmax > -np.inf
        assert image.norm.vmax == pytest.approx(np.nanmax(np.abs(image.get_array())))
    ax, bar = plot.phase_space_figure(ds, "energy").axes
    assert bar.get_ylabel() == "energy [km**2/s**2]"
    np.testing.assert_allclose(ax.images[0].get_array(), energy.T * KMS_PER_KPC_MYR ** 2,
                               rtol=1e-9)
    assert plot.time_label(ds) == "3 Myr"


def test_hydro_plot_command_defaults_to_f_and_names_the_png(tmp_path):
    f, delta_f, energy, _, edges = perturbed(nz=32, nv=32)
    snap = write_snapshot(tmp_path / "kick.00002.h5", f, delta_f, energy, edges)
    result = subprocess.run([sys.executable, "-m", "hydro", "plot", str(snap)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    png = tmp_path / "kick.00002_f.png"
    assert result.stdout.strip() == str(png)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    helped = subprocess.run([sys.executable, "-m", "hydro", "plot", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0
    assert "contrast" in helped.stdout and "phase-space" in helped.stdout


def test_dimensionless_run_shows_code_values_without_units(tmp_path):
    f, delta_f, energy, _, edges = perturbed(nz=40, nv=24, z=(-3.0, 2.0), v=(-0.5, 0.7))
    snap = write_snapshot(tmp_path / "ps.h5", f, delta_f, energy, edges, units=None, time=0.25,
                          blocks=(4, 1))
    ds = yt.load(str(snap))
    ax, bar = plot.phase_space_figure(ds, "delta_f").axes
    assert (ax.get_xlabel(), ax.get_ylabel(), bar.get_ylabel()) == ("z", "v_z", "delta_f")
    image = ax.images[0]
    np.testing.assert_allclose(image.get_extent(), [-3.0, 2.0, -0.5, 0.7], rtol=1e-12)
    np.testing.assert_array_equal(image.get_array(), delta_f.T)
    assert plot.time_label(ds) == "0.25"
    assert plot.main([str(snap), "--field", "contrast", "--out", str(tmp_path / "c.png")]) == 0


# --------------------------------------------------------------------------
# the contrast
# --------------------------------------------------------------------------

def test_contrast_of_a_function_of_energy_is_zero_to_round_off():
    _, _, energy, _, _ = grid(nz=80, nv=72, z=(-2.3, 2.6), v=(-0.9 * V_MAX, 1.05 * V_MAX))
    f0 = np.exp(-energy / SIGMA2)
    inside = complete(energy)
    assert 0.3 < inside.mean() < 0.9
    # the equilibrium itself: f = f0(E), delta_f = 0
    c = phase_space.contrast(f0, energy, np.zeros_like(f0))
    np.testing.assert_array_equal(c[inside], 0.0)
    assert np.isnan(c[~inside]).all()
    # a change of the equilibrium: delta_f a function of E, linear (exact) or not
    for delta_f, tolerance in ((0.02 * (1 - energy / energy.max()), 1e-13),
                               (0.01 * f0 * energy / SIGMA2, 2e-3)):
        c = phase_space.contrast(f0 + delta_f, energy, delta_f)
        assert np.isnan(c[~inside]).all() and np.isfinite(c[inside]).all()
        assert np.abs(c[inside]).max() < tolerance
    # without delta_f, f alone is averaged: only the curvature of f in E across a shell
    c = phase_space.contrast(f0, energy)
    assert 1e-6 < np.nanmax(np.abs(c)) < 0.03  # 0.017 measured


@pytest.mark.parametrize("m", [1, 2])
def test_contrast_of_an_angle_pattern_is_its_amplitude(m):
    """On a grid off-centre in z and v_z (so no mirror symmetry cancels errors), a
    pattern A cos(m theta - phase) gives that contrast: to 2% of A in all shells
    but the innermost and outermost (few cells; 15% there), and a fitted amplitude
    within 0.5% of A."""
    amplitude = 0.1
    f, delta_f, energy, expected, _ = perturbed(
        m=m, amplitude=amplitude, nz=80, nv=72, z=(-2.3, 2.6), v=(-0.9 * V_MAX, 1.05 * V_MAX))
    s, edges, inside = phase_space.nodes(energy)
    assert len(edges) > 10
    c = phase_space.contrast(f, energy, delta_f)
    error = np.abs(c - expected) / amplitude
    shell = np.searchsorted(edges, s, side="right") - 1
    middle = inside & (shell >= 1) & (shell < len(edges) - 2)
    assert np.nanmax(error[middle]) < 0.02
    assert np.nanmax(error[inside]) < 0.15
    assert np.isnan(c[~inside]).all()
    # least-squares amplitude of the pattern in the contrast
    pattern = expected[inside] / amplitude
    fitted = np.dot(c[inside], pattern) / np.dot(pattern, pattern)
    assert fitted == pytest.approx(amplitude, rel=5e-3)
    # without delta_f (f alone averaged) the same pattern, less closely
    c = phase_space.contrast(f, energy)
    fitted = np.dot(c[inside], pattern) / np.dot(pattern, pattern)
    assert fitted == pytest.approx(amplitude, rel=1e-2)


def test_contrast_drawn_by_hydro_plot_is_the_pattern(tmp_path):
    f, delta_f, energy, expected, edges = perturbed(
        m=1, amplitude=0.2, nz=64, nv=48, z=(-2.0, 2.5), v=(-V_MAX, 0.8 * V_MAX))
    snap = write_snapshot(tmp_path / "ps.h5", f, delta_f, energy, edges)
    ax, bar = plot.phase_space_figure(yt.load(str(snap)), "contrast").axes
    drawn = np.ma.filled(ax.images[0].get_array(), np.nan).T
    inside = complete(energy)
    assert np.isnan(drawn[~inside]).all()
    assert np.nanmax(np.abs(drawn[inside] - expected[inside])) < 0.15 * 0.2
    assert bar.get_ylabel() == "contrast"


# --------------------------------------------------------------------------
# end to end: a run of the vlasov system, then hydro plot
# --------------------------------------------------------------------------

RUNS = Path(__file__).resolve().parent.parent / "runs"


@pytest.mark.skipif(not (RUNS / "phase_mixing_kick_quick.yaml").is_file(),
                    reason="the vlasov system's run file is not here")
def test_hydro_plot_on_a_phase_mixing_run(tmp_path):
    """The quick bending-kick run on 64^2 cells (200 Myr, seconds), then hydro plot on
    its first and last snapshots. At t = 0, f = f0(z, v_z - dv) with dv = 1 km/s and
    sigma = 20 km/s, so the contrast is v_z dv / sigma^2 to first order; after 200 Myr
    the kick has wound into a spiral, which the line z = 0 crosses several times."""
    result = subprocess.run(
        [sys.executable, "-m", "hydro", "run", str(RUNS / "phase_mixing_kick_quick.yaml"),
         "mesh.nx=[64,64]", f"output.dir={tmp_path}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    snapshots = sorted(tmp_path.glob("phase_mixing.*.h5"))
    assert len(snapshots) == 5
    first, last = snapshots[0], snapshots[-1]
    for field in ("f", "delta_f", "contrast"):
        out = tmp_path / f"last_{field}.png"
        assert plot.main([str(last), "--field", field, "--out", str(out)]) == 0
        assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert out.stat().st_size > 5000
    crossings = {}
    for snap in (first, last):
        ds = yt.load(str(snap))
        assert plot.time_label(ds) == ("0 Myr" if snap == first else "200 Myr")
        ax, bar = plot.phase_space_figure(ds, "contrast").axes
        assert (ax.get_xlabel(), ax.get_ylabel(), bar.get_ylabel()) == \
            ("z [kpc]", "v_z [km/s]", "contrast")
        np.testing.assert_allclose(ax.images[0].get_extent(), [-2.5, 2.5, -100, 100],
                                   rtol=1e-9)
        contrast, (z_edges, v_edges), _ = plot.phase_space_values(ds, "contrast")
        assert 0.5 < np.isfinite(contrast).mean() < 0.8  # the orbits that stay on the grid
        z = 0.5 * (z_edges[1:] + z_edges[:-1])
        v = 0.5 * (v_edges[1:] + v_edges[:-1])
        if snap == first:
            inner = np.abs(v) < 40
            linear = v[inner] * 1.0 / 20.0 ** 2
            error = np.abs(contrast[:, inner] - linear)
            assert np.isfinite(error).sum() > 700  # 64 x 26 cells, |z| < 1.8 kpc on the grid
            assert np.nanmax(error) < 0.02  # 0.012 measured
        column = contrast[np.argmin(np.abs(z)), (v > 5) & (v < 90)]
        column = column[np.isfinite(column)]
        assert len(column) > 20
        crossings[snap] = np.count_nonzero(np.diff(np.sign(column)) != 0)
    assert crossings[first] == 0 and crossings[last] >= 2  # 3 measured


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------

def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    f, delta_f, energy, _, edges = perturbed(nz=16, nv=16)
    snap = write_snapshot(tmp_path / "ps.h5", f, delta_f, energy, edges)
    assert plot.main([str(snap), "--field", "density"]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {snap}: unknown field 'density'; available: "
                   f"contrast, delta_f, energy, f\n")
    assert plot.main([str(snap), "--field", "f", "--axis", "x"]) == 2
    assert "--axis x does not apply" in capsys.readouterr().err
    assert plot.main([str(snap), "--out", str(tmp_path / "nosuchdir" / "a.png")]) == 2
    assert "no such directory" in capsys.readouterr().err

    # a hydro snapshot has no contrast: the old message, the old list
    hydro_snap = tmp_path / "hydro.h5"
    rho = np.ones((1, 8, 8))
    with gdf.SnapshotWriter(hydro_snap, dimensionality=2, domain_dims=[8, 8, 1],
                            domain_left=[0, 0, 0], domain_right=[1, 1, 1], time=0.0,
                            cycle=0, boundary_codes=[0] * 6,
                            field_units={"density": "code_mass/code_length**3"}, units=None,
                            restart_attrs={}, n_grids=1) as writer:
        writer.write_grid(0, [0, 0, 0], {"density": rho}, rho[None].copy())
    assert plot.main([str(hydro_snap), "--field", "contrast"]) == 2
    err = capsys.readouterr().err
    assert "unknown field 'contrast'; available: density (and the fields yt derives" in err
    out = tmp_path / "rho.png"
    assert plot.main([str(hydro_snap), "--out", str(out)]) == 0  # default still density
    assert out.read_bytes().startswith(b"\x89PNG")
