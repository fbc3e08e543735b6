"""The phase-space system's machinery: the sweep kernel against exact cell averages,
its conservation, mirror symmetry and positivity; the same bits on any rank count, with
threads and across restarts; the run-file rules; what snapshots and history hold.
(The physics verification is in test_phase_space.py.)"""

import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import yaml

from common import simulate
from hydro.core import config
from hydro.io import gdf, history
from hydro.core import system as systems
from hydro.vlasov import positivity
from hydro.vlasov.sweep import (FILTER_REACH, STENCIL, advect_columns, advect_rows,
                                f0_parabolas, filter_columns)
from test_mpi import assemble, mpirun

RUN = {"problem": "phase_mixing",
       "units": {"length": "kpc", "time": "Myr", "mass": "Msun"},
       "mesh": {"nx": [40, 40], "xmin": ["-2.5 kpc", "-100 km/s"],
                "xmax": ["2.5 kpc", "100 km/s"], "boundary": ["outflow", "outflow"]},
       "time": {"tlim": "30 Myr"},
       "output": {"dt": "10 Myr"},
       "problem_params": {"kick": "bending", "dv": "15 km/s"}}


def line(values, ng):
    """A line with ``ng`` ghost cells of zeros at each end."""
    return np.concatenate([np.zeros(ng), values, np.zeros(ng)])


def unbounded(q):
    """A bound that never acts (no cell is below minus infinity)."""
    return (np.full_like(q, -np.inf), q, q, q)


def advect(values, shift, ng=12, f0=None, bound=None):
    """One line advected by ``shift`` cells (one row through advect_rows), bounded by
    f = f0 + delta f >= 0 for an f0 line (or ``bound`` of the whole line), or not."""
    q = line(values, ng)[None]
    out = np.zeros_like(q)
    if bound is None:
        f0 = None if f0 is None else line(f0, ng)[None]
        bound = unbounded(q) if f0 is None else f0_parabolas(f0, np.array([shift])) + (f0,)
    advect_rows(q, bound, out, np.array([shift]), 1.0, 0, 1, ng, 0, 1)
    return out[0, ng:-ng]


def periodic_advect(values, shift, ng=12):
    """As ``advect`` on a periodic line (ghosts wrapped from the other end)."""
    q = np.concatenate([values[-ng:], values, values[:ng]])[None]
    out = np.zeros_like(q)
    advect_rows(q, unbounded(q), out, np.array([shift]), 1.0, 0, 1, ng, 0, 1)
    return out[0, ng:-ng]


def test_whole_cell_shifts_are_exact():
    """An integer shift moves every value by that many cells, bit for bit."""
    values = np.random.default_rng(1).random(40)
    for shift in (3.0, -5.0, 0.0):
        got = periodic_advect(values, shift)
        assert np.array_equal(got, np.roll(values, int(shift)))


def test_smooth_profile_converges_at_third_order():
    """A sine wave moved 7.37 cells on a periodic line against the exact cell averages
    of the moved wave: PPM's third order (a first-order remap, or a flux taken from
    the wrong cell, stays at order 1 or does not converge)."""
    errors = []
    for n in (32, 64, 128):
        x = np.arange(n + 1) / n  # faces on [0, 1)
        average = (np.cos(2 * np.pi * x[:-1]) - np.cos(2 * np.pi * x[1:])) / (2 * np.pi / n)
        shift = 7.37 * n / 32
        moved = x - shift / n
        exact = (np.cos(2 * np.pi * moved[:-1]) - np.cos(2 * np.pi * moved[1:])) \
            / (2 * np.pi / n)
        errors.append(np.mean(np.abs(periodic_advect(average, shift, ng=int(shift) + 4)
                                     - exact)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-5 and orders.min() > 2.7, (errors, orders)


def test_mass_is_conserved_and_mirror_images_stay_mirror_images():
    rng = np.random.default_rng(2)
    values = np.zeros(60)
    values[20:40] = rng.random(20)
    for shift in (2.6, 0.3, 4.999):
        moved = advect(values, shift)
        assert math.fsum(moved) == pytest.approx(math.fsum(values), rel=1e-14, abs=0)
        # the line moved at -shift is the mirror image, bit for bit
        assert np.array_equal(advect(values[::-1], -shift)[::-1], moved)


def test_reconstruction_respects_the_lower_bound():
    """A spiky, non-negative line stays non-negative with the bound (f >= 0), and the
    bound is what keeps it so (without it PPM undershoots below zero)."""
    values = np.zeros(60)
    values[20:40:3] = 1.0
    values[30] = 1e-3
    free = advect(values, 0.45)
    bounded = advect(values, 0.45, f0=np.zeros(60))
    assert free.min() < -1e-3  # the undershoot the bound prevents
    assert bounded.min() >= 0.0
    assert math.fsum(bounded) == pytest.approx(math.fsum(values), rel=1e-14, abs=0)


def test_the_bound_leaves_a_correct_profile_alone():
    """In the tail of f0 (a factor e every 2 cells) a region a kick emptied has delta f
    close to -f0: f = f0 / 100 is smooth and positive, so the bound on f = f0's parabola
    + delta f's must not act (the bits of the unbounded sweep); a floor at -mean(f0)
    per cell, which the bound once was, clips it by more than a tenth of the local f."""
    ng = 12
    f0 = (np.exp(-0.5 * np.arange(-ng, 60 + ng)) * (np.exp(0.5) - 1) / 0.5)[None]
    delta = -0.99 * f0

    def sweep(shift, bound):
        out = np.zeros_like(delta)
        advect_rows(delta, bound, out, np.array([shift]), 1.0, 0, 1, ng, 0, 1)
        return out[0, ng:-ng]

    for shift in (0.45, -0.45, 2.3):
        free = sweep(shift, unbounded(delta))
        assert np.array_equal(sweep(shift, f0_parabolas(f0, np.array([shift])) + (f0,)), free)
        clipped = sweep(shift, (-f0, f0, f0, f0))
        assert np.max(np.abs(clipped - free) / (0.01 * f0[0, ng:-ng])) > 0.1


def test_columns_sweep_as_rows_do():
    """The v-sweep (tiles of columns) gives the bits of the z-sweep on the transpose."""
    rng = np.random.default_rng(3)
    ng, n = 9, 37  # several tiles and a partial one
    q = rng.random((n + 2 * ng, n + 2 * ng))
    speeds = rng.uniform(-6, 6, n + 2 * ng)
    f0 = 0.5 * rng.random(q.shape)
    rows, columns = np.zeros_like(q), np.zeros_like(q)
    bound = f0_parabolas(f0.T.copy(), speeds) + (f0.T.copy(),)
    advect_rows(q.T.copy() - 0.7, bound, rows, speeds, 1.0, ng, ng + n, ng, 0, 1)
    advect_columns(q - 0.7, tuple(np.ascontiguousarray(a.T) for a in bound), columns, speeds,
                   1.0, ng, ng + n, ng, 0, 1)
    assert np.array_equal(rows.T[ng:-ng, ng:-ng], columns[ng:-ng, ng:-ng])


def test_velocity_filter_transfer_conservation_and_positivity():
    """The filter along v multiplies a mode of L cells per wavelength by
    1 - s sin^12(pi / L) (the 2 dv mode by 1 - s), conserves mass, moves none through
    a face of the domain, keeps f = f0 + delta f >= 0 and mirrored columns mirrored."""
    n, ng = 120, FILTER_REACH
    rows = np.arange(n + 2 * ng)
    f0 = np.zeros((n + 2 * ng, 3))
    for wavelength in (2, 3, 4, 6, 10):
        for s in (1.0, 0.3):
            q = np.repeat(np.cos(2 * np.pi * rows / wavelength)[:, None], 3, axis=1)
            out = np.zeros_like(q)
            filter_columns(q, f0 + 10.0, out, s, (0, n + 2 * ng), 0, 3, 0, 1)
            expected = (1 - s * np.sin(np.pi / wavelength) ** 12) * q
            inner = slice(ng, n + ng)
            assert np.max(np.abs(out[inner] - expected[inner])) < 1e-13, (wavelength, s)
    rng = np.random.default_rng(4)
    q = np.zeros((n + 2 * ng, 2))
    q[ng:n + ng:3, 0] = rng.random(len(range(ng, n + ng, 3)))
    q[:, 1] = q[::-1, 0]
    out = np.zeros_like(q)
    filter_columns(q, f0[:, :2], out, 1.0, (ng, n + ng), 0, 2, 0, 1)
    inner = slice(ng, n + ng)
    assert out[inner].min() >= 0.0 and np.any(out[inner] != q[inner])
    assert math.fsum(out[inner, 0]) == pytest.approx(math.fsum(q[inner, 0]), rel=1e-14, abs=0)
    assert np.array_equal(out[inner, 1], out[inner, 0][::-1])


def test_ghosts_cover_the_largest_shift():
    """The system asks for floor(largest shift) + 3 ghost cells, along v the filter's
    reach more, and at least what the positivity fix reads: on 2000 x 36 cells the
    half z-drift of the fastest row moves 10.35 cells; on 400 x 36, 2.07 cells and the
    kick 0.2."""
    params = yaml.safe_load(yaml.safe_dump(RUN))
    v_max = (100.0 - 100.0 / 36) / 977.7922216807891  # the fastest row's km/s in kpc/Myr
    params["mesh"]["nx"] = [2000, 36]
    system = systems.build(*config.resolve(params))
    shift = v_max * 0.5 * system.step / (5.0 / 2000)
    assert 10.0 < shift < 11.0
    assert system.nghost == 10 + STENCIL
    params["mesh"]["nx"] = [400, 36]
    assert systems.build(*config.resolve(params)).nghost == FILTER_REACH + STENCIL
    params["vlasov"] = {"filter": 0.0}
    assert systems.build(*config.resolve(params)).nghost == max(2 + STENCIL, positivity.REACH)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    directory = tmp_path_factory.mktemp("serial")
    return simulate(RUN, directory), directory


def final_state(directory):
    path = sorted(pathlib.Path(directory).glob("*.h5"))[-1]
    _, u = gdf.read_conserved_region(path, (0, 0, 0), (40, 40, 1))
    return path, u


@pytest.mark.parametrize("n,ranks,threads", [(2, [2, 1], 1), (4, [1, 4], 1),
                                             (4, [2, 2], 1), (2, [1, 2], 2)])
def test_same_bits_for_any_rank_count(n, ranks, threads, serial, tmp_path):
    params = yaml.safe_load(yaml.safe_dump(RUN))
    params["output"]["dir"] = str(tmp_path / "out")
    params["mesh"]["ranks"] = ranks
    result = mpirun(n, params, tmp_path, threads=threads)
    assert result.returncode == 0, result.stderr
    path, u = final_state(tmp_path / "out")
    ref_path, ref_u = final_state(serial[1])
    assert np.abs(ref_u).max() > 0 and np.array_equal(u, ref_u)
    for name in ("f", "delta_f", "energy"):
        assert np.array_equal(assemble(path, name, (40, 40, 1)),
                              assemble(ref_path, name, (40, 40, 1))), name
    assert history.read(next((tmp_path / "out").glob("*.hst"))) == \
        history.read(next(serial[1].glob("*.hst")))


def test_restart_on_another_rank_count(serial, tmp_path):
    """Written on one rank, continued from its second snapshot on 2: the same bits."""
    params = yaml.safe_load(yaml.safe_dump(RUN))
    params["output"]["dir"] = str(tmp_path)
    restart = tmp_path / "phase_mixing.00001.h5"
    restart.write_bytes((serial[1] / "phase_mixing.00001.h5").read_bytes())
    result = mpirun(2, params, tmp_path, "--restart", str(restart))
    assert result.returncode == 0, result.stderr
    assert np.array_equal(final_state(tmp_path)[1], final_state(serial[1])[1])


def test_an_unperturbed_disk_stays_put_to_the_last_bit(tmp_path):
    params = yaml.safe_load(yaml.safe_dump(RUN))
    params["problem_params"]["kick"] = "none"
    sim = simulate(params, tmp_path)
    s = sim.states[0]
    assert not s.u[0][s.block.active].any()
    names, rows = history.read(tmp_path / "phase_mixing.hst")
    mass = [row[names.index("mass")] for row in rows]
    assert len(set(mass)) == 1 and mass[0] > 0


def test_snapshots_load_in_yt_with_their_axes(serial):
    yt = pytest.importorskip("yt")
    ds = yt.load(str(sorted(serial[1].glob("*.h5"))[-1]))
    assert ds.parameters["system"] == "vlasov"
    assert ds.parameters["axis_names"] == "z,v_z"
    z_unit, v_unit = ds.parameters["axis_units"].split(",")
    assert float(ds.domain_right_edge[0].to("kpc")) == pytest.approx(2.5, rel=1e-12)
    assert float(ds.quan(float(ds.domain_right_edge[1]), v_unit).to("km/s")) == \
        pytest.approx(100.0, rel=1e-12)
    data = ds.all_data()
    f, delta = data["gdf", "f"], data["gdf", "delta_f"]
    assert str(f.units) == "code_mass*code_time/code_length**4"
    # f integrates over v to a density: the slab's midplane 0.1 Msun/pc^3, near z = 0
    assert float(f.max().to("Msun/pc**3/(km/s)")) == pytest.approx(
        0.1 / (math.sqrt(2 * math.pi) * 20.0), rel=0.02)
    assert float(np.abs(delta).max()) > 0


def test_history_columns_and_units(serial):
    path = next(serial[1].glob("*.hst"))
    names, rows = history.read(path)
    assert names == ["time", "dt", "cycle", "mass", "mean_z", "mean_vz", "mean_zvz"]
    header = path.read_text().splitlines()[1]
    assert "mean_vz:code_length/code_time" in header and \
        "mass:code_mass/code_length**2" in header
    # at t = 0 the kick is the mean velocity: 15 km/s in kpc/Myr
    assert rows[0][names.index("mean_vz")] == pytest.approx(15 * 1.0227121650537077e-3,
                                                            rel=1e-3)


@pytest.mark.parametrize("override,message", [
    ("problem_params.potential=uniform", "vlasov.dt: required"),
    ("mesh.boundary=[reflecting,outflow]", "'reflecting' is not a phase-space boundary"),
    ("mesh.boundary=[outflow,periodic]", "the v_z axis cannot be periodic"),
    ("mesh.xmax=['2.5 kpc','100 kpc']", "mesh.xmax[1]"),
    ("mesh.nx=[800,3]", "mesh.nx[1]: must be >= 10"),
    ("vlasov.step=2", "vlasov.step: must be"),
    ("hydro.cfl=0.5", "hydro: not read by the vlasov system"),
])
def test_bad_run_files_are_one_line_and_exit_2(override, message, tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(RUN | {"output": {"dir": str(tmp_path / "out")}}))
    result = subprocess.run([sys.executable, "-m", "hydro", "run", str(path), override],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_a_hydro_run_refuses_the_vlasov_block(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"problem": "sod", "mesh": {"nx": [32]},
                                    "vlasov": {"step": 0.01}}))
    result = subprocess.run([sys.executable, "-m", "hydro", "check", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "vlasov: not read by the euler system" in result.stderr


def test_process_grid_is_checked_with_the_phase_space_ghosts(tmp_path):
    """800 x 16 cells need 7 ghost layers without the velocity filter (a half drift of
    the 93.75 km/s row moves 4.0 cells): 4 ranks along v_z would hold 4 rows each, too
    few; refused before anything runs (with Euler's 3 ghosts the check passed)."""
    params = yaml.safe_load(yaml.safe_dump(RUN))
    params["mesh"].update(nx=[800, 16], ranks=[1, 4])
    params["vlasov"] = {"filter": 0.0}
    params["output"]["dir"] = str(tmp_path / "out")
    result = mpirun(4, params, tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "thinner than the 7 ghost layers" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


NAN_PROBLEM = """
import math
from hydro.vlasov import Equilibrium, Harmonic
SYSTEM = "vlasov"
PARAMETERS = []


def equilibrium(p):
    return Equilibrium(Harmonic(1.0))


def initial_conditions(w, block, mesh, p, eq):
    w[0][block.active][0, 5, 7] = math.nan
"""


def test_a_non_finite_phase_space_cell_is_named_by_z_and_v_z(tmp_path):
    (tmp_path / "nan.py").write_text(NAN_PROBLEM)
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"problem": "nan.py", "mesh": {"nx": [16, 12]},
                                    "output": {"dir": str(tmp_path / "out")}}))
    result = subprocess.run([sys.executable, "-m", "hydro", "run", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "cell 7, 5 (z, v_z = 0.46875, 0.458333)" in result.stderr, result.stderr


def test_a_step_below_dt_min_says_what_sets_it(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(RUN | {"output": {"dir": str(tmp_path / "out")}}))
    result = subprocess.run([sys.executable, "-m", "hydro", "run", str(path),
                             "time.dt_min=1 Myr"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "dt collapsed to 5.223" in result.stderr and \
        "set by vlasov.step (or vlasov.dt)" in result.stderr, result.stderr
