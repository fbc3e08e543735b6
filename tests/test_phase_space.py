"""Verification of the phase-space system (``SYSTEM = "vlasov"``, f(z, v_z, t)) against
the independent reference ``phase_space_reference`` (numpy/scipy only) and exact
solutions (shared/notes/phase-mixing.md §1.1, §2.1, §5, §6).

Units: the fiducial slab runs are in kpc, Myr, Msun (sigma = 20 km/s, rho0 = 0.1
Msun/pc^3: z0 = 384.7 pc, midplane period P = 83.57 Myr); the blob and streaming runs
(tests/phase_space_problems/) are dimensionless.  Errors of the moments are quoted in
units of the kick: <v_z> in dv, <z> in dv/nu0, <z v_z> in dv z0.

The numerical-diffusion measurement runs on the production grid (512^2, 1 Gyr, about
25 s); tests/measure_phase_space_diffusion.py (not collected) repeats it for any grid.
"""

import glob
import math
import os

import numpy as np
import pytest

import phase_space_reference as R
from common import simulate
from hydro.io import gdf, history

PROBLEMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "phase_space_problems")
BLOB = os.path.join(PROBLEMS, "blob.py")
STREAMING = os.path.join(PROBLEMS, "streaming.py")

KMS = R.KMS_IN_KPC_PER_MYR
SLAB = R.Slab(20 * KMS, 0.1 * R.MSUN_PC3_IN_CODE, R.G_KPC_MYR_MSUN)
PERIOD = 2 * math.pi / SLAB.nu0  # 83.57 Myr
BOX = (2.5, 100 * KMS)           # the fiducial grid's |z| and |v_z| extent
UNITS = {"length": "kpc", "time": "Myr", "mass": "Msun"}


# ------------------------------------------------------------------------------ helpers

def fiducial(n, tlim, step=0.00625, zmax="2.5 kpc", vmax="100 km/s", output=None, **pp):
    """A phase_mixing run mapping: n x n cells on |z| <= zmax, |v| <= vmax, fiducial slab;
    tlim in Myr (a number) or a string."""
    params = {"sigma": "20 km/s", "rho0": "0.1 Msun/pc**3", "potential": "slab"}
    params.update(pp)
    return {"problem": "phase_mixing", "units": UNITS,
            "mesh": {"nx": [n, n], "xmin": [f"-{zmax}", f"-{vmax}"], "xmax": [zmax, vmax],
                     "boundary": ["outflow", "outflow"]},
            "vlasov": {"step": step, "dt": None},
            "time": {"tlim": tlim if isinstance(tlim, str) else float(tlim)},
            "output": output or {"snapshots": False, "history_dt": "5 Myr"},
            "problem_params": params}


def blob_run(n, lo, hi, tlim, vlasov, output=None, **pp):
    return {"problem": BLOB,
            "mesh": {"nx": [n, n], "xmin": list(lo), "xmax": list(hi),
                     "boundary": ["outflow", "outflow"]},
            "vlasov": vlasov, "time": {"tlim": tlim},
            "output": output or {"snapshots": False, "history_dt": tlim / 20},
            "problem_params": pp}


def delta_f(sim):
    s = sim.states[0]
    return s.u[0][s.block.active][0].copy()  # (n_v, n_z)


def centres(sim):
    z, v, _ = sim.states[0].block.coordinates()
    return z[0, 0, :], v[0, :, 0]


def edges(sim):
    m = sim.cfg["mesh"]
    return (np.linspace(m["xmin"][0], m["xmax"][0], m["nx"][0] + 1),
            np.linspace(m["xmin"][1], m["xmax"][1], m["nx"][1] + 1))


def hist(sim):
    names, rows = history.read(os.path.join(sim.cfg["output"]["dir"],
                                            sim.cfg["output"]["basename"] + ".hst"))
    rows = np.array(rows)
    return {name: rows[:, i] for i, name in enumerate(names)}


def snapshots(sim):
    """[(time, delta f (n_v, n_z))] of every snapshot of a run."""
    nz, nv = sim.cfg["mesh"]["nx"][:2]
    out = []
    for path in sorted(glob.glob(os.path.join(sim.cfg["output"]["dir"], "*.h5"))):
        header, u = gdf.read_conserved_region(path, (0, 0, 0), (nz, nv, 1))
        out.append((header["time"], u[0, 0].copy()))
    return out


def order(e_coarse, e_fine, ratio=2.0):
    return math.log(e_coarse / e_fine) / math.log(ratio)


# -------------------------------------------------------------- the reference, checked

def test_reference_frequencies():
    """Omega_z(E) of the slab (and slab + halo) against the note's tables to 4 digits,
    and the small-E limit Omega = nu0 (1 - E/(8 sigma^2)) + O(E^2)."""
    s2 = SLAB.sigma ** 2
    table = {0.01: 0.9988, 0.10: 0.9876, 0.25: 0.9695, 0.50: 0.9404, 1.0: 0.8865,
             2.0: 0.7942, 3.0: 0.7200, 4.0: 0.6602, 6.0: 0.5715, 8.0: 0.5095, 10.0: 0.4637}
    e = np.array(list(table))
    got = R.omega(SLAB, e * s2) / SLAB.nu0
    assert np.max(np.abs(got - np.array(list(table.values())))) < 0.6e-4, got
    zmax = R.Slab(SLAB.sigma, SLAB.rho0, SLAB.G).zmax(np.array([1.0, 10.0]) * s2) / SLAB.z0
    assert np.max(np.abs(zmax - [1.085, 5.693])) < 0.6e-3
    halo = R.Slab(SLAB.sigma, SLAB.rho0, SLAB.G, halo=0.1)
    htable = {0.25: 1.0224, 0.5: 0.9974, 1.0: 0.9514, 2.0: 0.8736, 4.0: 0.7624, 8.0: 0.6403}
    got = R.omega(halo, np.array(list(htable)) * s2) / SLAB.nu0
    assert np.max(np.abs(got - np.array(list(htable.values())))) < 0.6e-4, got
    for x in (1e-3, 1e-2):
        small = R.omega(SLAB, np.array([x * s2]))[0] / SLAB.nu0
        assert abs(small - (1 - x / 8)) < 0.1 * x * x
    # the orbit table's one-period closure: period and integrator agree
    table = R.OrbitTable(SLAB, 11.6 * s2, n_E=40, N=128)
    assert table.closure < 1e-9


def test_reference_exact_flows():
    """The oracle (6th-order backward integration) against the exact harmonic rotation and
    uniform-field shear, and the free-streaming decay against a quadrature."""
    rng = np.random.default_rng(1)
    z, v = rng.uniform(-1, 1, 2000), rng.uniform(-1, 1, 2000)
    f_i = lambda z, v: np.exp(-((z - 0.3) ** 2 + (v + 0.2) ** 2) / 0.05)  # noqa: E731
    nu, t = 1.3, 7.7
    got = R.oracle(f_i, R.Harmonic(nu), z, v, t)
    assert np.max(np.abs(got - R.harmonic_solution(f_i, z, v, t, nu))) < 1e-9
    g = 0.7
    got = R.oracle(f_i, R.Uniform(g), z, v, 1.9)
    assert np.max(np.abs(got - R.uniform_solution(f_i, z, v, 1.9, g))) < 1e-12
    # Uniform: V(0) = v + g t (the acceleration is -g)
    z1, v1 = R.integrate_orbits(np.zeros(1), np.zeros(1), 1.0, R.Uniform(g).accel, 0.1)
    assert v1[0] == pytest.approx(-g) and z1[0] == pytest.approx(-g / 2)
    from scipy import integrate
    k, sigma = 1.0, 1.0
    for t in (0.5, 2.0, 3.0):
        val = integrate.quad(lambda u: math.cos(k * u * t) * math.exp(-0.5 * u * u)
                             / math.sqrt(2 * math.pi), -40, 40, limit=400)[0]
        assert R.free_streaming_decay(k, sigma, t) == pytest.approx(val, rel=1e-9, abs=1e-14)


def test_reference_linear_kick():
    """Linear theory of a kick by orbit quadrature: (a) in a harmonic potential a uniform
    kick gives <v> = dv cos(nu t), <z> = dv/nu sin(nu t) exactly; (b) in the slab, the
    box-truncated breathing response against a brute-force forward integration of a
    Gauss-Legendre grid of initial points (dropping each once it leaves the box: the
    outflow boundary; 1.5e-4 of dv z0 at t = 0 comes from such orbits)."""
    harm = R.Harmonic(SLAB.nu0)
    harm.sigma, harm.rho0, harm.z0 = SLAB.sigma, SLAB.rho0, SLAB.z0
    t = np.linspace(0.0, 1000.0, 41)
    dv = KMS
    out = R.kick_moments(harm, t, kick="bending", dv=dv, linear=True, box=None)
    z_exact, v_exact = R.harmonic_bending(harm.nu, dv, t)
    assert np.max(np.abs(out["mean_vz"] - v_exact)) / dv < 1e-9
    assert np.max(np.abs(out["mean_z"] - z_exact)) * harm.nu / dv < 1e-9
    assert np.max(np.abs(out["mean_zvz"])) / (dv * SLAB.z0) < 1e-12

    ts = np.array([0.0, 37.0, 80.0])
    out = R.kick_moments(SLAB, ts, kick="breathing", dv=dv, linear=True, box=BOX)
    x, w = np.polynomial.legendre.leggauss(200)
    zz, vv = np.meshgrid(BOX[0] * x, BOX[1] * x)
    W = BOX[0] * BOX[1] * w[None, :] * w[:, None]
    f0 = R.isothermal_f0(SLAB, SLAB.sigma, SLAB.rho0)(zz, vv)
    f1 = (-dv * zz / SLAB.z0) * vv / SLAB.sigma ** 2 * f0
    M = np.sum(W * f0)
    assert M == pytest.approx(R.slab_box_mass(SLAB, *BOX), rel=1e-12)
    z, v, alive, now = zz, vv, np.ones(zz.shape, bool), 0.0
    for i, ti in enumerate(ts):
        n = int(math.ceil((ti - now) / (PERIOD / 100)))
        for _ in range(n):
            dt = (ti - now) / n
            z, v = R.integrate_orbits(z, v, dt, SLAB.accel, dt)  # one step
            alive &= (np.abs(z) <= BOX[0]) & (np.abs(v) <= BOX[1])
        now = ti
        brute = np.sum(W * f1 * alive * z * v) / M
        # 1e-5: the brute force's own error (its exit indicator on 200^2 points)
        assert abs(brute - out["mean_zvz"][i]) / (dv * SLAB.z0) < 1e-5, (ti, brute,
                                                                         out["mean_zvz"][i])


# ----------------------------------------------------------------------- 1. harmonic

def test_harmonic_blob_rotation_order(tmp_path):
    """Harmonic potential: rigid rotation.  The pm_verify blob (at (0.5, 0), widths 0.1,
    nu = 1, f0 = 0) after 10 turns against the exact cell averages; the step refined with
    the grid (1/80, 1/160, 1/320 of the period on 32^2, 64^2, 128^2); L1 order >= 2
    between the two finer grids."""
    nu = 1.0
    blob = lambda z, v: np.exp(-0.5 * ((z - 0.5) / 0.1) ** 2 - 0.5 * (v / 0.1) ** 2)  # noqa: E731
    mass = 2 * math.pi * 0.01
    errors = {}
    for n in (32, 64, 128):
        sim = simulate(blob_run(n, (-1.2, -1.2), (1.2, 1.2), 20 * math.pi / nu,
                                {"step": 1.0 / (80 * n // 32)}), tmp_path / str(n))
        ez, ev = edges(sim)
        exact = R.gauss_cell_average(lambda z, v: R.harmonic_solution(blob, z, v, sim.time, nu),
                                     ez, ev)
        cell = np.diff(ez)[0] * np.diff(ev)[0]
        errors[n] = float(np.sum(np.abs(delta_f(sim) - exact)) * cell / mass)
    orders = [order(errors[32], errors[64]), order(errors[64], errors[128])]
    print(f"harmonic blob, 10 turns: L1/mass {errors}, orders {orders}")
    assert orders[1] >= 2.0, (errors, orders)


# ---------------------------------------------------------------------- 2. uniform field

def test_uniform_field_shear(tmp_path):
    """Uniform field Phi = g z (acceleration -g): the exact shear solution
    f_i(z - v t - g t^2/2, v + g t) (note §5.3).  A blob at (0, 1), widths 0.1, g = 1, to
    t = 2.5: its centre decelerates to v = -1.5, the lower v boundary, so half of it has
    left through the outflow boundary (it never comes back: v only decreases).  Drift-kick-
    drift is exact in time in a uniform field, so this is the spatial error alone: L1
    order >= 2 between 128^2 and 256^2."""
    g, t_end = 1.0, 2.5
    blob = lambda z, v: np.exp(-0.5 * (z / 0.1) ** 2 - 0.5 * ((v - 1.0) / 0.1) ** 2)  # noqa: E731
    mass = 2 * math.pi * 0.01
    errors, left = {}, None
    for n in (64, 128, 256):
        sim = simulate(blob_run(n, (-2.0, -1.5), (2.0, 2.5), t_end, {"dt": 0.05},
                                potential="uniform", g=g, zc=0.0, vc=1.0), tmp_path / str(n))
        ez, ev = edges(sim)
        exact = R.gauss_cell_average(lambda z, v: R.uniform_solution(blob, z, v, sim.time, g),
                                     ez, ev)
        cell = np.diff(ez)[0] * np.diff(ev)[0]
        errors[n] = float(np.sum(np.abs(delta_f(sim) - exact)) * cell / mass)
        left = 1 - float(np.sum(exact)) * cell / mass
    orders = [order(errors[64], errors[128]), order(errors[128], errors[256])]
    print(f"uniform field: L1/mass {errors}, orders {orders}; mass fraction left {left:.3f}")
    assert 0.3 < left < 0.7  # the boundary is exercised
    assert orders[1] >= 2.0, (errors, orders)


# --------------------------------------------------------------------- 3. free streaming

K, NZ, NV, VMAX = 1.0, 32, 64, 5.0


def _streaming(tmp_path, tlim, **vlasov):
    sim = simulate({"problem": STREAMING,
                    "mesh": {"nx": [NZ, NV], "xmin": [-math.pi / K, -VMAX],
                             "xmax": [math.pi / K, VMAX], "boundary": ["periodic", "outflow"]},
                    "vlasov": {"dt": 0.05, **vlasov}, "time": {"tlim": tlim},
                    "output": {"snapshots": False, "history_dt": tlim}}, tmp_path)
    z, _ = centres(sim)
    mode = np.exp(-1j * K * z)
    df = delta_f(sim)
    dv = 2 * VMAX / NV
    rho_k = np.sum(df.sum(axis=0) * dv * mode) / NZ
    # the L2 norm of the k mode of delta f: sqrt(sum_v |delta f_k(v)|^2 dv)
    l2_k = math.sqrt(np.sum(np.abs(df @ mode / NZ) ** 2) * dv)
    ez, ev = edges(sim)
    exact0 = R.gauss_cell_average(lambda z, v: 0.5 * np.cos(K * z) * np.exp(-0.5 * v * v)
                                  / math.sqrt(2 * math.pi), ez, ev)
    rho0 = np.sum(exact0.sum(axis=0) * dv * mode) / NZ
    l20 = math.sqrt(np.sum(np.abs(exact0 @ mode / NZ) ** 2) * dv)
    return sim, abs(rho_k) / abs(rho0), l2_k / l20


def test_free_streaming_decay(tmp_path):
    """Phi = 0, periodic z, k = 1/z0 (sigma = 1): the density mode decays as
    exp(-k^2 sigma^2 t^2/2), here to 1 % (t = 3.03) on a grid that resolves it
    (k dv t = 0.48 < 1); within 1 % of the law at t = 1, 2, 3.03; the mode's L2 norm of
    delta f stays (D = 0) within 1 %."""
    dv = 2 * VMAX / NV
    for t in (1.0, 2.0, math.sqrt(2 * math.log(100.0)) / K):
        sim, ratio, l2 = _streaming(tmp_path / f"{t:.3f}", t)
        law = float(R.free_streaming_decay(K, 1.0, sim.time))
        print(f"free streaming t = {sim.time:.3f} (k dv t = {K * dv * sim.time:.2f}): "
              f"rho_k ratio {ratio:.6f}, law {law:.6f}, rel. error {ratio / law - 1:+.2e}; "
              f"L2_k ratio {l2:.6f}")
        assert K * dv * sim.time < 1
        assert abs(ratio / law - 1) < 0.01
        assert abs(l2 - 1) < 0.01


def test_free_streaming_no_recurrence(tmp_path):
    """No recurrence at T_R = 2 pi/(k dv) (a discrete-velocity method returns the initial
    density mode there): |rho_k(T_R)|/|rho_k(0)| must stay below the 1 % level the mode
    decayed to (the exact cell-averaged value is 4e-8 on this box), with the step of
    the other tests and with a quarter of it (the filter acts at intervals of time,
    not of steps).  Without the velocity filter (vlasov.filter 0) the split z-drift
    is such a method: the mode comes back."""
    t_r = 2 * math.pi / (K * 2 * VMAX / NV)
    sim, ratio, l2 = _streaming(tmp_path / "filtered", t_r)
    _, short, _ = _streaming(tmp_path / "short", t_r, dt=0.0125)
    _, unfiltered, _ = _streaming(tmp_path / "unfiltered", t_r, filter=0.0)
    print(f"free streaming at T_R = {t_r:.3f}: |rho_k|/|rho_k(0)| = {ratio:.3e} "
          f"(step 0.0125: {short:.3e}), L2_k ratio {l2:.4f}; without the filter "
          f"{unfiltered:.4f}")
    assert max(ratio, short) < 0.01, f"recurrence: |rho_k(T_R)| = {ratio:.3f}, {short:.3f}"
    assert unfiltered > 0.9


# ------------------------------------------------------------------------ 4. equilibrium

def test_equilibrium_steady(tmp_path):
    """The unperturbed fiducial slab (kick none) stays steady to the last bit over 1 Gyr:
    delta f exactly 0, the history's mass constant exactly and its means 0 to round-off."""
    sim = simulate(fiducial(64, 1000.0, kick="none"), tmp_path)
    assert np.array_equal(delta_f(sim), np.zeros((64, 64)))
    h = hist(sim)
    assert h["time"][-1] == pytest.approx(1000.0)
    assert np.all(h["mass"] == h["mass"][0])
    assert np.max(np.abs(h["mean_z"])) < 1e-14 * BOX[0]
    assert np.max(np.abs(h["mean_vz"])) < 1e-14 * BOX[1]


def test_mass_l2_positivity_blob(tmp_path):
    """f0 = 0 blob in the harmonic potential (128^2, 3 turns, snapshots every 1/8 turn):
    mass in the history conserved to round-off (the blob is 10 widths from the boundary;
    on 64^2 the under-resolved blob's numerical tail reaches the boundary at 3e-9 of its
    peak, so 128^2), the L2 norm of f never increases, f >= 0."""
    turn = 2 * math.pi
    sim = simulate(blob_run(128, (-1.5, -1.5), (1.5, 1.5), 3 * turn, {"step": 1 / 160},
                            output={"snapshots": True, "dt": turn / 8, "history_dt": turn / 40}),
                   tmp_path)
    h = hist(sim)
    drift = np.max(np.abs(h["mass"] / h["mass"][0] - 1))
    snaps = snapshots(sim)
    l2 = np.array([math.sqrt(np.sum(f * f)) for _, f in snaps])
    fmin = min(float(f.min()) for _, f in snaps)
    print(f"blob: mass drift {drift:.2e}; L2 {l2[0]:.6f} -> {l2[-1]:.6f}, largest step "
          f"change {np.max(np.diff(l2) / l2[:-1]):+.2e}; min f {fmin:.2e}")
    assert len(snaps) == 25
    assert drift < 1e-13
    assert np.all(np.diff(l2) <= 0.0), np.diff(l2)
    assert fmin >= 0.0


# ------------------------------------------------------------------- 5. characteristics

CHAR_KICK = 15.0                      # km/s: not small (0.75 sigma)
CHAR_T = 1.25 * PERIOD                # 104.5 Myr
CHAR_BOX = ("3 kpc", "140 km/s")      # f0 and the kicked f0 below 1e-6 of the peak outside
CHAR_FINE = 256


@pytest.fixture(scope="module")
def characteristics_oracle():
    """Cell averages (4 x 4 Gauss-Legendre points per cell; the 6th-order integrator with
    step P/40, whose error is < 1e-6 of max|delta f| here) of delta f on the 256^2 grid of
    CHAR_BOX: delta f_i = f0(z, v - dv) - f0 carried along the characteristics (f0 is)."""
    f0 = R.isothermal_f0(SLAB, SLAB.sigma, SLAB.rho0)
    dv = CHAR_KICK * KMS
    f_i = lambda z, v: f0(z, v - dv) - f0(z, v)  # noqa: E731
    ez = np.linspace(-3.0, 3.0, CHAR_FINE + 1)
    ev = np.linspace(-140 * KMS, 140 * KMS, CHAR_FINE + 1)
    return R.oracle_cell_average(f_i, SLAB, CHAR_T, ez, ev, n=4, h=PERIOD / 40)


def _characteristics_run(tmp_path, n, step):
    sim = simulate(fiducial(n, CHAR_T, step=step, zmax=CHAR_BOX[0], vmax=CHAR_BOX[1],
                            kick="bending", dv=f"{CHAR_KICK} km/s", linear=False), tmp_path)
    assert sim.time == pytest.approx(CHAR_T, rel=1e-12)
    return sim


def test_characteristics_space_order(tmp_path, characteristics_oracle):
    """Fiducial slab, full bending kick of 15 km/s, 1.25 periods, step 1/640 of the period
    (time error far below): delta f against the oracle's cell averages on 32^2, 64^2,
    128^2; L1 order >= 2.5 (PPM: 3rd order for smooth data) between the finer pair."""
    oracle = characteristics_oracle
    errors = {}
    for n in (32, 64, 128):
        sim = _characteristics_run(tmp_path / str(n), n, 1.0 / 640)
        ref = R.block_average(oracle, CHAR_FINE // n)
        errors[n] = float(np.sum(np.abs(delta_f(sim) - ref)) / np.sum(np.abs(ref)))
    orders = [order(errors[32], errors[64]), order(errors[64], errors[128])]
    print(f"characteristics, space: L1 error / L1(delta f) {errors}, orders {orders}")
    assert orders[1] >= 2.5, (errors, orders)


def test_characteristics_time_order(tmp_path, characteristics_oracle):
    """The same on the 256^2 grid with steps 1/8, 1/16, 1/32 of the period: Strang
    splitting, L1 order >= 1.8 between the finer pair (2 in the limit)."""
    oracle = characteristics_oracle
    errors = {}
    for steps in (8, 16, 32):
        sim = _characteristics_run(tmp_path / str(steps), CHAR_FINE, 1.0 / steps)
        errors[steps] = float(np.sum(np.abs(delta_f(sim) - oracle)) / np.sum(np.abs(oracle)))
    orders = [order(errors[8], errors[16]), order(errors[16], errors[32])]
    print(f"characteristics, time: L1 error / L1(delta f) {errors}, orders {orders}")
    assert orders[1] >= 1.8, (errors, orders)


def test_positivity_kicked_slab(tmp_path):
    """f = f0 + delta f >= 0 for the kicked slab (15 km/s, 64^2, 1.25 periods) in every
    snapshot (each 1/8 of the period), where the sweeps alone leave f below zero in the
    wake of the kick (-2.8e-6 of max f at the end)."""
    sim = simulate(fiducial(64, CHAR_T, step=1.0 / 160, zmax=CHAR_BOX[0], vmax=CHAR_BOX[1],
                            kick="bending", dv=f"{CHAR_KICK} km/s", linear=False,
                            output={"snapshots": True, "dt": PERIOD / 8,
                                    "history_dt": PERIOD / 8}), tmp_path)
    f0 = sim.system.f0_cells(sim.states[0].block)[0]
    snaps = snapshots(sim)
    fmin = min(float((f0 + d).min()) for _, d in snaps)
    fmax = max(float((f0 + d).max()) for _, d in snaps)
    print(f"kicked slab 64^2: min f / max f = {fmin / fmax:.3e} over {len(snaps)} snapshots")
    assert len(snaps) == 11
    assert fmin >= 0.0, f"min f = {fmin / fmax:.3e} of max f"


# ------------------------------------------------------------------- 6. kick response

KICK_N = {("bending", True): 512, ("bending", False): 256, ("breathing", True): 256}


@pytest.fixture(scope="module")
def kick_runs(tmp_path_factory):
    """The fiducial 1 km/s kicks over 1 Gyr: bending linear on the production grid 512^2
    (snapshots every 100 Myr for the numerical-diffusion measurement), bending full and
    breathing linear on 256^2."""
    runs = {}
    for (kick, linear), n in KICK_N.items():
        output = {"snapshots": False, "history_dt": "5 Myr"}
        if n == 512:
            output = {"snapshots": True, "dt": "100 Myr", "history_dt": "5 Myr"}
        runs[kick, linear] = simulate(
            fiducial(n, "1000 Myr", kick=kick, dv="1 km/s", linear=linear, output=output),
            tmp_path_factory.mktemp(f"{kick}{linear}"))
    return runs


def _moment_errors(sim, kick, linear):
    h = hist(sim)
    ref = R.kick_moments(SLAB, h["time"], kick=kick, dv=KMS, linear=linear, box=BOX)
    err = {"z": np.abs(h["mean_z"] - ref["mean_z"]) * SLAB.nu0 / KMS,
           "vz": np.abs(h["mean_vz"] - ref["mean_vz"]) / KMS,
           "zvz": np.abs(h["mean_zvz"] - ref["mean_zvz"]) / (KMS * SLAB.z0)}
    return h, ref, {k: float(np.max(e)) for k, e in err.items()}


@pytest.mark.parametrize("kick,linear", [("bending", True), ("bending", False),
                                         ("breathing", True)])
def test_kick_response_moments(kick_runs, kick, linear):
    """<z>(t), <v_z>(t), <z v_z>(t) from the history (every 5 Myr to 1 Gyr) against the
    orbit-quadrature reference (linear: the linear theory; full: the exact nonlinear
    moments, by the same quadrature), within 2e-3 in units of the kick."""
    sim = kick_runs[kick, linear]
    h, ref, err = _moment_errors(sim, kick, linear)
    assert h["time"][-1] == pytest.approx(1000.0) and len(h["time"]) == 201
    msg = f"{kick} {'linear' if linear else 'full'} {KICK_N[kick, linear]}^2: max errors {err}"
    if not linear:
        lin = R.kick_moments(SLAB, h["time"], kick=kick, dv=KMS, linear=True, box=BOX)
        diff = {k: float(np.max(np.abs(ref[k] - lin[k]))) for k in ("mean_z", "mean_vz",
                                                                   "mean_zvz")}
        msg += (f"; full - linear theory: <v> {diff['mean_vz'] / KMS:.2e}, "
                f"<z> {diff['mean_z'] * SLAB.nu0 / KMS:.2e}, "
                f"<zv> {diff['mean_zvz'] / KMS / SLAB.z0:.2e}")
    print(msg)
    assert max(err.values()) < 2e-3, msg


@pytest.mark.parametrize("kick", ["bending", "breathing"])
def test_kick_parity(kick_runs, kick):
    """The linear bending response has no even part, f_breath = [f(z,v) + f(-z,-v)]/2 - f0
    = 0, and the breathing one no odd part, to round-off (1e-12 of max|delta f|)."""
    df = delta_f(kick_runs[kick, True])
    mirror = df[::-1, ::-1]
    wrong = 0.5 * (df + mirror) if kick == "bending" else 0.5 * (df - mirror)
    ratio = float(np.max(np.abs(wrong)) / np.max(np.abs(df)))
    print(f"{kick} linear {KICK_N[kick, True]}^2: wrong-parity part {ratio:.2e} of "
          f"max|delta f|")
    assert ratio < 1e-12


# ------------------------------------------------------------- 7. numerical diffusion

def amplitude_decay_time(frames, zc, vc, e_sigma2=2.0, t_max=None):
    """Fit |A_1(E, t)|/|A_1(E, 0)| = exp[-(t/t_D)^3] (least squares in ln A against t^3,
    through the origin) at E = e_sigma2 sigma^2; returns (t_D (inf if no decay), D_num
    from the note's §3 formula, [(t, ratio)])."""
    s2 = SLAB.sigma ** 2
    E = e_sigma2 * s2
    f0E = SLAB.rho0 / (math.sqrt(2 * math.pi) * SLAB.sigma) * math.exp(-E / s2)
    pts = []
    for t, df in frames:
        if t_max is not None and t > t_max * (1 + 1e-9):
            continue
        amp, _ = R.angle_amplitude(df, zc, vc, SLAB, E, f0E, n_harm=1)
        pts.append((t, amp[0]))
    t = np.array([p[0] for p in pts])
    ratio = np.array([p[1] for p in pts]) / pts[0][1]
    x, y = t ** 3, np.log(ratio)
    slope = float(np.sum(x * y) / np.sum(x * x))
    t_d = (-1.0 / slope) ** (1.0 / 3.0) if slope < 0 else math.inf
    d_num = R.diffusion_from_tD(t_d, 1, float(R.domega_dE(SLAB, np.array([E]))[0]),
                                R.orbit_mean_v2(SLAB, E))
    return t_d, d_num, list(zip(t, ratio))


def test_numerical_diffusion_production_grid(kick_runs):
    """Note §6 grid rule on the production grid (512^2, fiducial slab, linear bending kick,
    1 Gyr, D = 0): |A_1(E = 2 sigma^2, t)| fitted to exp[-(t/t_D)^3] must give
    t_D,num >= 3 t_end; D_num from t_D = [3/(D (dOmega/dE)^2 <v^2>_E)]^(1/3) printed."""
    sim = kick_runs["bending", True]
    frames = snapshots(sim)
    zc, vc = centres(sim)
    t_d, d_num, pts = amplitude_decay_time(frames, zc, vc)
    print(f"numerical diffusion 512^2, 1 Gyr: t_D,num = {t_d:.0f} Myr, D_num = "
          f"{d_num / KMS ** 2:.2e} (km/s)^2/Myr; |A_1|(t)/|A_1|(0): "
          + ", ".join(f"{t:.0f}: {r:.5f}" for t, r in pts))
    assert len(frames) == 11
    assert t_d >= 3 * 1000.0
