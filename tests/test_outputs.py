"""Outputs of real runs: snapshot names and times, yt round trips, bit-for-bit
restarts (in-process and through ``hydro run --restart``), the history file,
atomic writes and the quick-look plot.

Every run is small (at most a few thousand cells and ~50 cycles) so the file
stays fast; the comparisons are exact wherever the code promises exactness.
"""

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
import yt

from common import primitive, simulate
from hydro.io import gdf, history
from hydro.core.driver import RunError

yt.set_log_level("error")

KH_FIELDS = ("density", "velocity_x", "velocity_y", "velocity_z", "pressure", "dye")
KH_COLUMNS = ["time", "dt", "cycle", "mass", "momentum_x", "momentum_y", "momentum_z",
              "energy", "dye"]


def kh_params(nx=(32, 32), tlim=0.2, dt=0.05, **hydro):
    """2D Kelvin-Helmholtz in a periodic box, snapshots every ``dt``."""
    return {
        "problem": "kelvin_helmholtz",
        "mesh": {"nx": list(nx), "boundary": ["periodic", "periodic"]},
        "hydro": dict(hydro),
        "time": {"tlim": tlim},
        "output": {"dt": dt},
    }


def sod_params(nx=32, tlim=0.2, dt=0.05, **time):
    return {
        "problem": "sod",
        "mesh": {"nx": [nx]},
        "time": {"tlim": tlim, **time},
        "output": {"dt": dt},
    }


def with_dir(params, out_dir):
    params = copy.deepcopy(params)
    params["output"]["dir"] = str(out_dir)
    return params


def assert_no_tmp(directory):
    leftovers = [p.name for p in Path(directory).rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == [], f"temporary files left behind: {leftovers}"


def snapshot_names(directory):
    return sorted(p.name for p in Path(directory).glob("*.h5"))


def snapshot_time(path):
    """current_time of a snapshot as yt reads it, in seconds (code time = 1 s)."""
    ds = yt.load(str(path))
    return float(ds.current_time.to("s"))


def read_snapshot(path):
    """(GDF field arrays, restart conserved arrays) of every grid, exactly as stored."""
    with h5py.File(path, "r") as f:
        fields = {(grid, name): f["data"][grid][name][()]
                  for grid in f["data"] for name in f["data"][grid]}
        conserved = {grid: f[gdf.RESTART_GROUP][grid]["conserved"][()]
                     for grid in f[gdf.RESTART_GROUP]}
    return fields, conserved


def assert_snapshots_identical(a, b, same_index=True):
    """Bit-for-bit equal field and restart data, same time, cycle and schedule state."""
    fields_a, conserved_a = read_snapshot(a)
    fields_b, conserved_b = read_snapshot(b)
    assert sorted(fields_a) == sorted(fields_b)
    for key in fields_a:
        assert np.array_equal(fields_a[key], fields_b[key]), f"{b}: field {key} differs"
    assert sorted(conserved_a) == sorted(conserved_b)
    for key in conserved_a:
        assert np.array_equal(conserved_a[key].view(np.uint64),
                              conserved_b[key].view(np.uint64)), f"{b}: {key} differs"
    header_a, grids_a = gdf.read_restart(a)
    header_b, grids_b = gdf.read_restart(b)
    keys = ["time", "cycle", "next_history", "nvar", "conserved_names"]
    keys += ["output_index", "output_step"] if same_index else []
    for key in keys:
        assert header_a[key] == header_b[key], key
    assert len(grids_a) == len(grids_b)
    for (left_a, u_a), (left_b, u_b) in zip(grids_a, grids_b):
        assert np.array_equal(left_a, left_b)
        assert np.array_equal(u_a, u_b)


def history_lines(path):
    return Path(path).read_text().splitlines(keepends=True)


# --------------------------------------------------------------------------
# snapshot names and times
# --------------------------------------------------------------------------

def test_snapshot_names_and_times_land_exactly(tmp_path):
    """t = 0, every multiple of output.dt, and tlim (not a multiple) exactly."""
    sim = simulate(sod_params(tlim=0.25, dt=0.1), tmp_path)
    assert sim.time == 0.25
    assert snapshot_names(tmp_path) == [f"sod.{k:05d}.h5" for k in range(4)]
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        [f"sod.{k:05d}.h5" for k in range(4)] + ["sod.hst"]
    expected = [0.0, 1 * 0.1, 2 * 0.1, 0.25]
    for k, t in enumerate(expected):
        path = tmp_path / f"sod.{k:05d}.h5"
        assert snapshot_time(path) == t, path.name
        assert gdf.read_header(path)["time"] == t
    # the history rows pass through the same times exactly
    _, rows = history.read(tmp_path / "sod.hst")
    times = [row[0] for row in rows]
    for t in expected:
        assert t in times
    assert times[-1] == 0.25
    assert_no_tmp(tmp_path)


def test_many_output_times_and_tlim_just_above_a_multiple(tmp_path):
    """11 * 0.03 = 0.32999999999999996 < tlim = 0.33: one final snapshot at tlim, not
    one at 11 * dt plus a sliver step to tlim. Every step before an output time is
    shortened to land on it (time[n] = time[n-1] + dt[n]), never overshooting."""
    sim = simulate(sod_params(nx=16, tlim=0.33, dt=0.03), tmp_path)
    assert 11 * 0.03 < 0.33 == sim.time
    names = snapshot_names(tmp_path)
    assert names == [f"sod.{k:05d}.h5" for k in range(12)]
    times = [gdf.read_header(tmp_path / n)["time"] for n in names]
    assert times == [k * 0.03 for k in range(11)] + [0.33]
    _, rows = history.read(tmp_path / "sod.hst")
    rows = np.array(rows)
    np.testing.assert_allclose(rows[1:, 0], rows[:-1, 0] + rows[1:, 1], rtol=1e-14, atol=0)
    for t in times:
        assert t in rows[:, 0]
    assert_no_tmp(tmp_path)


def test_time_is_set_to_the_output_time_not_accumulated(tmp_path, monkeypatch):
    """A short first step t1 = 0.0021 (forced) then a step to 0.01: in floating point
    t1 + (0.01 - t1) != 0.01, yet the snapshot and the history row are at 0.01 exactly."""
    from hydro.core.driver import Simulation

    t1 = 21 * 1e-4
    assert t1 + (0.01 - t1) != 0.01
    original = Simulation._timestep

    def first_step_short(self):
        dt = original(self)
        if self.cycle <= 1:  # the steps that take t to t1 and then to 0.01
            assert dt > 0.01, "the CFL step must reach the output time from t1"
        return min(dt, t1) if self.cycle == 0 else dt

    monkeypatch.setattr(Simulation, "_timestep", first_step_short)
    sim = simulate(sod_params(nx=16, tlim=0.03, dt=0.01), tmp_path)
    names = snapshot_names(tmp_path)
    times = [gdf.read_header(tmp_path / n)["time"] for n in names]
    assert times == [0.0, 0.01, 2 * 0.01, 0.03] and sim.time == 0.03
    assert snapshot_time(tmp_path / names[1]) == 0.01
    _, rows = history.read(tmp_path / "sod.hst")
    assert [row[0] for row in rows[:3]] == [0.0, t1, 0.01]


def test_last_snapshot_at_tlim_when_tlim_is_a_multiple(tmp_path):
    sim = simulate(kh_params(nx=(16, 16), tlim=0.2, dt=0.05), tmp_path)
    names = snapshot_names(tmp_path)
    assert names == [f"kelvin_helmholtz.{k:05d}.h5" for k in range(5)]
    times = [snapshot_time(tmp_path / n) for n in names]
    assert times == [k * 0.05 for k in range(4)] + [0.2]
    assert sim.time == 0.2
    cycles = [gdf.read_header(tmp_path / n)["cycle"] for n in names]
    assert cycles[0] == 0 and cycles == sorted(set(cycles)) and cycles[-1] == sim.cycle


def test_default_schedule_and_basename(tmp_path):
    """Without output.dt: one snapshot at t = 0 and one at tlim; basename option."""
    params = sod_params(tlim=0.07, dt=None)
    params["output"]["basename"] = "tube"
    sim = simulate(params, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["tube.00000.h5", "tube.00001.h5", "tube.hst"]
    assert snapshot_time(tmp_path / "tube.00000.h5") == 0.0
    assert snapshot_time(tmp_path / "tube.00001.h5") == 0.07 == sim.time


def test_nlim_stop_then_restart_keeps_the_schedule(tmp_path):
    """A run stopped by nlim writes a final snapshot off the schedule; a restart
    from it continues the numbering and still writes every multiple of output.dt,
    and ends bit-for-bit where an uninterrupted run ends."""
    full = simulate(sod_params(), tmp_path / "A")
    _, rows = history.read(tmp_path / "A" / "sod.hst")
    cycle_at = {row[0]: int(row[2]) for row in rows}
    nlim = (cycle_at[0.05] + cycle_at[0.1]) // 2  # stop between the outputs at 0.05 and 0.1
    assert cycle_at[0.05] < nlim < cycle_at[0.1]
    stopped = simulate(sod_params(nlim=nlim), tmp_path / "B")
    assert stopped.cycle == nlim
    assert 0.05 < stopped.time < 0.1
    names = snapshot_names(tmp_path / "B")
    assert names == [f"sod.{k:05d}.h5" for k in range(3)]
    assert snapshot_time(tmp_path / "B" / names[-1]) == stopped.time

    restarted = simulate(sod_params(), tmp_path / "B",
                         restart=str(tmp_path / "B" / "sod.00002.h5"))
    assert restarted.time == full.time == 0.2
    names = snapshot_names(tmp_path / "B")
    assert names == [f"sod.{k:05d}.h5" for k in range(6)]
    times = [snapshot_time(tmp_path / "B" / n) for n in names]
    assert times == [0.0, 0.05, stopped.time, 2 * 0.05, 3 * 0.05, 0.2]
    assert_snapshots_identical(tmp_path / "A" / "sod.00004.h5", tmp_path / "B" / "sod.00005.h5",
                               same_index=False)
    assert history_lines(tmp_path / "B" / "sod.hst") == history_lines(tmp_path / "A" / "sod.hst")


def test_snapshots_off_with_output_dt(tmp_path):
    """output.snapshots: false with output.dt set still advances to tlim (no dt = 0 loop)."""
    params = sod_params(tlim=0.1, nlim=1000)
    params["output"]["snapshots"] = False
    sim = simulate(params, tmp_path)
    assert sim.time == 0.1
    assert sim.cycle < 100
    assert snapshot_names(tmp_path) == []


# --------------------------------------------------------------------------
# yt round trips of real runs
# --------------------------------------------------------------------------

ROUND_TRIP_CASES = {
    "1d": ({"problem": "sod",
            "mesh": {"nx": [40], "xmin": [-1.0], "xmax": [2.0], "boundary": ["outflow"]},
            "time": {"tlim": 0.3}, "output": {"dt": 0.1},
            "problem_params": {"x0": 0.25}},
           (), (False, True, True)),
    "2d": ({"problem": "kelvin_helmholtz",
            "mesh": {"nx": [24, 16], "xmin": [0.0, -0.5], "xmax": [1.5, 0.5],
                     "boundary": ["periodic", "periodic"]},
            "time": {"tlim": 0.1}, "output": {"dt": 0.05}},
           ("dye",), (True, True, True)),
    "3d": ({"problem": "blast",
            "mesh": {"nx": [12, 10, 8], "xmin": [-0.6, 0.0, 0.2], "xmax": [0.6, 1.5, 1.0],
                     "boundary": ["periodic", "reflecting", "outflow"]},
            "time": {"tlim": 0.02}, "output": {"dt": 0.01},
            "problem_params": {"radius": 0.25}},
           (), (True, False, False)),
}


@pytest.mark.parametrize("case", sorted(ROUND_TRIP_CASES))
def test_yt_round_trip_of_a_run(tmp_path, case):
    params, scalars, periodicity = ROUND_TRIP_CASES[case]
    sim = simulate(params, tmp_path)
    mesh = params["mesh"]
    ndim = len(mesh["nx"])
    names = sorted(p.name for p in tmp_path.glob("*.h5"))
    final = tmp_path / names[-1]
    ds = yt.load(str(final))  # plain yt, no plugin

    assert ds.dimensionality == ndim
    dims = list(mesh["nx"]) + [1] * (3 - ndim)
    np.testing.assert_array_equal(ds.domain_dimensions, dims)
    left = list(mesh["xmin"]) + [0.0] * (3 - ndim)
    right = list(mesh["xmax"]) + [1.0] * (3 - ndim)
    np.testing.assert_array_equal(ds.domain_left_edge.to("cm").d, left)
    np.testing.assert_array_equal(ds.domain_right_edge.to("cm").d, right)
    assert float(ds.current_time.to("s")) == sim.time == params["time"]["tlim"]
    assert ds.periodicity == periodicity

    hydro_fields = ("density", "velocity_x", "velocity_y", "velocity_z", "pressure")
    for name in hydro_fields + scalars:
        assert ("gdf", name) in ds.field_list, name
    for name in hydro_fields:
        assert ("gas", name) in ds.derived_field_list, name

    cg = ds.covering_grid(0, ds.domain_left_edge, ds.domain_dimensions)
    density = cg["gas", "density"]
    assert str(density.units) == "g/cm**3"
    # hydro's arrays are [k, j, i]; yt's are [x, y, z]
    assert density.shape == tuple(dims)
    assert np.array_equal(density.d, primitive(sim, "density").T)
    for axis in "xyz":
        v = cg["gas", f"velocity_{axis}"]
        assert str(v.units) == "cm/s"
        assert np.array_equal(v.d, primitive(sim, f"velocity_{axis}").T)
    pressure = cg["gas", "pressure"]
    assert np.array_equal(pressure.to("dyn/cm**2").d, primitive(sim, "pressure").T)
    # code units are cgs: SI conversions give the cgs numbers times the SI factors
    np.testing.assert_allclose(pressure.to("Pa").d, 0.1 * primitive(sim, "pressure").T,
                               rtol=1e-14, atol=0)
    np.testing.assert_allclose(density.to("kg/m**3").d, 1e3 * primitive(sim, "density").T,
                               rtol=1e-14, atol=0)
    for name in scalars:
        scalar = cg["gdf", name]
        assert scalar.units.is_dimensionless
        assert np.array_equal(scalar.d, primitive(sim, name).T)

    # the restart data of the final snapshot is the in-memory conserved state
    header, grids = gdf.read_restart(final)
    s = sim.states[0]
    assert header["time"] == sim.time and header["cycle"] == sim.cycle
    assert np.array_equal(grids[0][1], s.u[(slice(None),) + s.block.active])
    assert_no_tmp(tmp_path)


def test_yt_coordinates_match_the_initial_conditions(tmp_path):
    """At t = 0 the KH set-up seen through yt's own coordinates: vy varies along x,
    density and dye along y only (catches an x/y swap that would also be in memory)."""
    params = copy.deepcopy(ROUND_TRIP_CASES["2d"][0])
    params["time"]["tlim"] = 0.01
    simulate(params, tmp_path)
    ds = yt.load(str(tmp_path / "kelvin_helmholtz.00000.h5"))
    cg = ds.covering_grid(0, ds.domain_left_edge, ds.domain_dimensions)
    x = cg["index", "x"].to("cm").d
    amplitude = 0.01
    vy = amplitude * np.sin(4.0 * np.pi * (x - 0.0) / 1.5)
    np.testing.assert_allclose(cg["gas", "velocity_y"].d, vy, rtol=0, atol=1e-15)
    density = cg["gas", "density"].d
    assert np.ptp(density, axis=0).max() == 0.0  # constant along x
    assert np.ptp(density[0, :, 0]) > 0.5  # varies along y
    y = cg["index", "y"].to("cm").d
    # dense inner stream (rho2 = 2, dye = 1) in the middle half of y in [-0.5, 0.5]
    inner = np.abs(y) < 0.2
    assert density[inner].min() > 1.9 and density[~inner & (np.abs(y) > 0.3)].max() < 1.1
    assert cg["gdf", "dye"].d[inner].min() > 0.9


# --------------------------------------------------------------------------
# restarts
# --------------------------------------------------------------------------

def copy_for_restart(src_dir, dst_dir, index, basename="kelvin_helmholtz"):
    dst_dir.mkdir(parents=True)
    snap = dst_dir / f"{basename}.{index:05d}.h5"
    shutil.copy2(src_dir / snap.name, snap)
    shutil.copy2(src_dir / f"{basename}.hst", dst_dir / f"{basename}.hst")
    return snap


@pytest.mark.parametrize("integrator, reconstruction, riemann, history_dt", [
    ("vl2", "plm", "hllc", None),
    ("rk3", "plm", "hlle", None),
    ("vl2", "ppm", "hllc", 0.03),
])
def test_restart_bit_for_bit_in_process(tmp_path, integrator, reconstruction, riemann,
                                        history_dt):
    params = kh_params(integrator=integrator, reconstruction=reconstruction, riemann=riemann)
    params["output"]["history_dt"] = history_dt
    a, b = tmp_path / "A", tmp_path / "B"
    full = simulate(with_dir(params, a), a)
    snap = copy_for_restart(a, b, 2)
    assert snapshot_time(snap) == 0.1

    restarted = simulate(with_dir(params, b), b, restart=str(snap))
    # numbering continues after the restart file; nothing before it is rewritten
    assert snapshot_names(b) == [f"kelvin_helmholtz.{k:05d}.h5" for k in (2, 3, 4)]
    assert restarted.cycle == full.cycle and restarted.time == full.time == 0.2
    for k in (3, 4):
        name = f"kelvin_helmholtz.{k:05d}.h5"
        assert_snapshots_identical(a / name, b / name)
    for name in KH_FIELDS:
        assert np.array_equal(primitive(full, name), primitive(restarted, name)), name
    # the history after the restart is the uninterrupted one, row for row
    assert history_lines(b / "kelvin_helmholtz.hst") == history_lines(a / "kelvin_helmholtz.hst")
    assert_no_tmp(a)
    assert_no_tmp(b)


def test_restart_drops_history_rows_after_the_restart_time(tmp_path):
    """Rows written after the snapshot (and a partial last row left by a crash)
    are dropped, so the restarted history equals the uninterrupted one."""
    params = kh_params(nx=(16, 16))
    a, b = tmp_path / "A", tmp_path / "B"
    simulate(with_dir(params, a), a)
    snap = copy_for_restart(a, b, 2)
    lines = history_lines(b / "kelvin_helmholtz.hst")
    times = [float(ln.split()[0]) for ln in lines if not ln.startswith("#")]
    assert 0.1 in times and times[-1] == 0.2
    # a crash during a buffered write: the file ends in the middle of a row
    after = [n for n, ln in enumerate(lines) if not ln.startswith("#")
             and float(ln.split()[0]) > 0.12][0]
    partial = lines[after][:lines[after].index("e") + 2]  # e.g. "1.2345678901234567e-"
    (b / "kelvin_helmholtz.hst").write_text("".join(lines[:after]) + partial)

    simulate(with_dir(params, b), b, restart=str(snap))
    assert history_lines(b / "kelvin_helmholtz.hst") == history_lines(a / "kelvin_helmholtz.hst")


def test_restart_into_empty_dir_starts_history_at_restart(tmp_path):
    """Restarting without the old history file: a fresh header, rows after the restart."""
    params = kh_params(nx=(16, 16))
    a, b = tmp_path / "A", tmp_path / "B"
    simulate(with_dir(params, a), a)
    b.mkdir()
    snap = b / "kelvin_helmholtz.00002.h5"
    shutil.copy2(a / snap.name, snap)
    simulate(with_dir(params, b), b, restart=str(snap))
    names_a, rows_a = history.read(a / "kelvin_helmholtz.hst")
    names_b, rows_b = history.read(b / "kelvin_helmholtz.hst")
    assert names_b == names_a == KH_COLUMNS
    assert rows_b == [row for row in rows_a if row[0] > 0.1]


def test_restart_bit_for_bit_through_cli(tmp_path):
    """hydro run to t = 0.1, then hydro run --restart to 0.2, equals one run to 0.2."""
    params = kh_params()
    params["output"]["dir"] = "A"
    params_file = tmp_path / "kh.yaml"
    params_file.write_text(yaml.safe_dump(params))

    def hydro(*args):
        result = subprocess.run([sys.executable, "-m", "hydro", "run", str(params_file), *args],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result

    hydro()
    hydro("output.dir=B", "time.tlim=0.1")
    assert snapshot_names(tmp_path / "B") == [f"kelvin_helmholtz.{k:05d}.h5" for k in range(3)]
    hydro("output.dir=B", "--restart", "B/kelvin_helmholtz.00002.h5")

    a, b = tmp_path / "A", tmp_path / "B"
    assert snapshot_names(b) == snapshot_names(a) == \
        [f"kelvin_helmholtz.{k:05d}.h5" for k in range(5)]
    for k in (3, 4):
        name = f"kelvin_helmholtz.{k:05d}.h5"
        assert_snapshots_identical(a / name, b / name)
    assert history_lines(b / "kelvin_helmholtz.hst") == history_lines(a / "kelvin_helmholtz.hst")
    assert_no_tmp(tmp_path)

    # a snapshot of another mesh is bad input: one line, exit status 2, nothing written
    bad = subprocess.run([sys.executable, "-m", "hydro", "run", str(params_file),
                          "output.dir=C", "mesh.nx=[16,32]",
                          "--restart", "A/kelvin_helmholtz.00002.h5"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert len(bad.stderr.splitlines()) == 1
    assert "mesh.nx" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "C").exists()


def test_restart_rejects_other_runs(tmp_path):
    simulate(kh_params(nx=(16, 16), tlim=0.05), tmp_path / "A")
    snap = str(tmp_path / "A" / "kelvin_helmholtz.00001.h5")
    with pytest.raises(RunError, match="mesh.nx"):
        simulate(kh_params(nx=(16, 8)), tmp_path / "B", restart=snap)
    with pytest.raises(RunError, match="problem"):
        simulate({"problem": "sod", "mesh": {"nx": [16, 16]}, "output": {"dt": 0.05}},
                 tmp_path / "C", restart=snap)
    not_snapshot = tmp_path / "A" / "kelvin_helmholtz.hst"
    with pytest.raises(RunError, match="cannot restart"):
        simulate(kh_params(nx=(16, 16)), tmp_path / "D", restart=str(not_snapshot))


# --------------------------------------------------------------------------
# history file
# --------------------------------------------------------------------------

def test_history_file(tmp_path):
    sim = simulate(kh_params(nx=(24, 16), tlim=0.15), tmp_path)
    path = tmp_path / "kelvin_helmholtz.hst"
    text = path.read_text()
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert len(header) >= 2 and text.splitlines()[:len(header)] == header
    assert "kelvin_helmholtz" in header[0]
    names, rows = history.read(path)
    assert names == KH_COLUMNS
    rows = np.array(rows)
    assert rows.shape == (sim.cycle + 1, len(KH_COLUMNS))
    time, dt, cycle = rows[:, 0], rows[:, 1], rows[:, 2]
    # first row at t = 0, then one per cycle (history_dt unset)
    assert time[0] == 0.0 and dt[0] == 0.0 and cycle[0] == 0
    np.testing.assert_array_equal(cycle, np.arange(sim.cycle + 1))
    assert time[-1] == 0.15 == sim.time
    assert np.all(dt[1:] > 0)
    np.testing.assert_allclose(time[1:], time[:-1] + dt[1:], rtol=1e-14, atol=0)

    # totals: the first row is the initial state, the last the final one
    mass, dye = rows[:, 3], rows[:, 8]
    assert np.max(np.abs(mass / mass[0] - 1.0)) < 1e-13  # periodic box: mass conserved
    assert np.max(np.abs(dye / dye[0] - 1.0)) < 1e-13
    assert np.max(np.abs(rows[:, 7] / rows[0, 7] - 1.0)) < 1e-13  # energy
    totals = sim.totals()
    assert np.array_equal(rows[-1, 3:], totals)  # %.16e round-trips float64
    ds = yt.load(str(tmp_path / "kelvin_helmholtz.00000.h5"))
    ad = ds.all_data()
    initial_mass = float((ad["gas", "density"] * ad["index", "cell_volume"]).sum().to("g"))
    assert mass[0] == pytest.approx(initial_mass, rel=1e-13)
    momentum_y = float((ad["gas", "density"] * ad["gas", "velocity_y"]
                        * ad["index", "cell_volume"]).sum().to("g*cm/s"))
    assert rows[0, 5] == pytest.approx(momentum_y, rel=1e-10, abs=1e-16)
    assert_no_tmp(tmp_path)


def test_history_dt(tmp_path):
    params = kh_params(nx=(16, 16), tlim=0.2, dt=0.1)
    params["output"]["history_dt"] = 0.04
    sim = simulate(params, tmp_path)
    names, rows = history.read(tmp_path / "kelvin_helmholtz.hst")
    assert names == KH_COLUMNS
    times = [row[0] for row in rows]
    assert times[0] == 0.0
    assert len(rows) < sim.cycle // 2
    # one row at the first cycle at or after each multiple of history_dt
    for k in range(1, 5):
        assert sum(1 for t in times if k * 0.04 - 1e-12 <= t < (k + 1) * 0.04 - 1e-12) == 1


# --------------------------------------------------------------------------
# atomic writes and failing hooks
# --------------------------------------------------------------------------

def test_output_fields_hook_and_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    """A problem's output_fields appear in the snapshot with their units; when the
    hook fails while a snapshot is being written, no file appears under its name."""
    import hydro.problems.sod as sod

    calls = []

    def output_fields(w, block, p):
        calls.append(1)
        if len(calls) > 1:  # called once per snapshot: snapshot 0 works, snapshot 1 fails
            raise RuntimeError("hook failed")
        a = block.active
        return {"sound_speed": (np.sqrt(1.4 * w[4][a] / w[0][a]), "code_length/code_time")}

    monkeypatch.setattr(sod, "output_fields", output_fields, raising=False)
    params = sod_params(tlim=0.1)
    params["hydro"] = {"gamma": 1.4}
    with pytest.raises(RuntimeError, match="hook failed"):
        simulate(params, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sod.00000.h5", "sod.hst"]

    ds = yt.load(str(tmp_path / "sod.00000.h5"))
    cg = ds.covering_grid(0, ds.domain_left_edge, ds.domain_dimensions)
    cs = cg["gdf", "sound_speed"]
    assert str(cs.units) == "code_length/code_time"
    rho, p = cg["gas", "density"].d, cg["gas", "pressure"].d
    np.testing.assert_allclose(cs.to("cm/s").d, np.sqrt(1.4 * p / rho), rtol=1e-15)
    np.testing.assert_allclose(cs.to("km/s").d, 1e-5 * np.sqrt(1.4 * p / rho), rtol=1e-14)


def test_crash_mid_run_leaves_no_partial_snapshot(tmp_path, monkeypatch):
    """An exception raised while the grid data is written (here: the HDF5 write of
    snapshot 1) removes the temporary file; earlier snapshots stay intact."""
    original = gdf.SnapshotWriter.write_grid
    writes = []

    def failing_write_grid(self, *args, **kwargs):
        writes.append(self.path)
        if len(writes) == 2:
            # written under the temporary name; the final name appears only at the end
            assert os.path.exists(self.tmp_path) and not os.path.exists(self.path)
            raise OSError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(gdf.SnapshotWriter, "write_grid", failing_write_grid)
    with pytest.raises(OSError, match="disk full"):
        simulate(sod_params(tlim=0.1), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sod.00000.h5", "sod.hst"]
    assert snapshot_time(tmp_path / "sod.00000.h5") == 0.0


# --------------------------------------------------------------------------
# analysis.plot on real outputs
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["1d", "2d"])
def test_plot_module_on_real_output(tmp_path, case):
    params = copy.deepcopy(ROUND_TRIP_CASES[case][0])
    params["output"]["dt"] = None
    simulate(params, tmp_path)
    snap = sorted(tmp_path.glob("*.00001.h5"))[0]
    result = subprocess.run([sys.executable, "-m", "hydro.analysis.plot", str(snap),
                             "--field", "density"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    png = snap.with_name(f"{snap.stem}_density.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 1000
    if case == "2d":
        from hydro.analysis import plot
        out = tmp_path / "dye.png"
        assert plot.main([str(snap), "--field", "dye", "--out", str(out)]) == 0
        assert out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("history_dt", [None, 0.7])
def test_restart_keeps_the_budget_columns_bit_for_bit(history_dt, tmp_path):
    """A cooling wind with an open face (radiated, injected and outflow columns, whose
    per-cell sums are integrated at history and snapshot times): the restarted
    history equals the uninterrupted one, row for row."""
    params = {"problem": "cluster_wind", "units": {"length": "pc", "mass": "Msun",
                                                   "time": "kyr"},
              "mesh": {"nx": [60], "xmin": [0.0], "xmax": [1.0],
                       "boundary": [["reflecting", "outflow"]], "geometry": "spherical"},
              "cooling": {"table": "sd93"}, "time": {"tlim": 3.0},
              "output": {"dt": 1.0, "history_dt": history_dt},
              "problem_params": {"mdot": "1e-3 Msun/yr", "edot": "3e38 erg/s",
                                 "radius": "0.3 pc", "rho_ambient": "1e-23 g/cm**3",
                                 "p_ambient": "1e-11 erg/cm**3"}}
    a, b = tmp_path / "A", tmp_path / "B"
    full = simulate(with_dir(params, a), a)
    assert full.budget["radiated"] > 0 and full.budget["outflow_mass"] > 0
    snap = copy_for_restart(a, b, 2, basename="cluster_wind")
    simulate(with_dir(params, b), b, restart=str(snap))
    assert_snapshots_identical(a / "cluster_wind.00003.h5", b / "cluster_wind.00003.h5")
    assert history_lines(b / "cluster_wind.hst") == history_lines(a / "cluster_wind.hst")


# --------------------------------------------------------------------------
# issue 16: spherical runs in yt and in plots; gamma; dimensionless runs
# --------------------------------------------------------------------------

SPHERICAL_WIND = {"problem": "cluster_wind",
                  "units": {"length": "pc", "mass": "Msun", "time": "kyr"},
                  "mesh": {"nx": [48], "xmin": [0.0], "xmax": [2.0],
                           "boundary": [["reflecting", "outflow"]], "geometry": "spherical"},
                  "hydro": {"gamma": 1.4},
                  "time": {"tlim": 0.5}, "output": {"dt": None},
                  "problem_params": {"mdot": "1e-3 Msun/yr", "edot": "3e38 erg/s",
                                     "radius": "0.3 pc", "rho_ambient": "1e-24 g/cm**3",
                                     "p_ambient": "1e-12 erg/cm**3"}}


def test_spherical_run_gives_yt_gamma_sound_speed_mach_and_velocity_r(tmp_path):
    sim = simulate(SPHERICAL_WIND, tmp_path)
    ds = yt.load(sim.snapshots_written[-1])  # plain yt
    assert float(ds.gamma) == 1.4
    assert ds.parameters["dimensionless_units"] == 0
    assert str(ds.length_unit.units) == "pc" and str(ds.time_unit.units) == "kyr"
    ad = ds.all_data()
    order = np.argsort(ad["index", "r"].d)
    v_r = ad["gas", "velocity_r"][order]
    np.testing.assert_allclose(v_r.to("code_length/code_time").d,
                               primitive(sim, "velocity_x").ravel(), rtol=1e-14, atol=0)
    assert float(v_r.to("km/s").max()) > 100.0  # the wind is blowing
    rho = ad["gas", "density"][order].to("g/cm**3").d
    p = ad["gas", "pressure"][order].to("dyn/cm**2").d
    cs = ad["gas", "sound_speed"][order].to("cm/s").d
    np.testing.assert_allclose(cs, np.sqrt(1.4 * p / rho), rtol=1e-14, atol=0)
    np.testing.assert_allclose(ad["gas", "mach_number"][order].d,
                               np.abs(v_r.to("cm/s").d) / cs, rtol=1e-14, atol=0)
    assert ("gdf", "temperature") in ds.field_list  # physical units: T in K means something

    from hydro.analysis import plot
    ax = plot.profile_figure(ds, ("gas", "velocity_r")).axes[0]
    assert ax.get_xlabel() == "r [pc]"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), sim.states[0].block.coordinates()[0]
                               .ravel(), rtol=1e-14)
    assert plot.time_label(ds) == "0.5 kyr"
    for field in ("density", "velocity_r", "mach_number"):
        result = subprocess.run([sys.executable, "-m", "hydro.analysis.plot",
                                 sim.snapshots_written[-1], "--field", field, "--log"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        png = tmp_path / f"cluster_wind.00001_{field}.png"
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_run_without_units_is_marked_dimensionless(tmp_path):
    """No units block: the snapshot says so, has no (meaningless) temperature in K, and
    plots show code values without units; yt.load still works plainly."""
    params = copy.deepcopy(ROUND_TRIP_CASES["1d"][0])
    params["output"]["dt"] = None
    sim = simulate(params, tmp_path)
    final = sim.snapshots_written[-1]
    with h5py.File(final, "r") as f:
        assert f["simulation_parameters"].attrs["dimensionless_units"] == 1
        assert "temperature" not in f["field_types"]
    ds = yt.load(final)
    assert float(ds.gamma) == sim.cfg["hydro"]["gamma"]
    assert ("gdf", "temperature") not in ds.field_list
    from hydro.analysis import plot
    assert plot.time_label(ds) == "0.3"
    ax = plot.profile_figure(ds, ("gas", "pressure")).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "pressure")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), primitive(sim, "pressure").ravel())


def test_run_with_units_keeps_temperature_and_physical_labels(tmp_path):
    params = copy.deepcopy(ROUND_TRIP_CASES["1d"][0])
    params["output"]["dt"] = None
    params["units"] = {"length": "km"}
    sim = simulate(params, tmp_path)
    ds = yt.load(sim.snapshots_written[-1])
    assert ds.parameters["dimensionless_units"] == 0
    assert ("gdf", "temperature") in ds.field_list
    from hydro.analysis import plot
    assert plot.time_label(ds) == "0.3 s"
    assert plot.profile_figure(ds, ("gas", "density")).axes[0].get_xlabel() == "x [km]"
