"""Tests of hydro.io.gdf (snapshot files) and analysis.plot.

The round trips go through plain ``yt.load``. yt does not check array
shapes, so a transposed or misplaced block would load silently; the analytic
field rho = 1 + x + 2y + 3z on non-cubic grids split into several blocks
makes every such mistake visible.
"""

import pickle

import h5py
import numpy as np
import pytest
import yt

from hydro.analysis import plot
from hydro.io.gdf import SnapshotWriter, read_header, read_restart

CGS = {"length_unit": (1.0, "cm"), "mass_unit": (1.0, "g"), "time_unit": (1.0, "s")}
FIELD_UNITS = {
    "density": "code_mass/code_length**3",
    "velocity_x": "code_length/code_time",
    "pressure": "code_mass/(code_length*code_time**2)",
    "passive": "",
}
TIME = 0.1 + 0.2  # not exactly representable: checks that time survives bit-for-bit
CYCLE = 2**40 + 3
NVAR = 5

# dimensionality -> (global cells, blocks per axis, domain left, domain right)
CASES = {
    3: ((12, 8, 6), (2, 2, 1), (-1.0, 0.5, 0.0), (2.0, 2.5, 3.0)),
    2: ((10, 6, 1), (2, 3, 1), (0.0, -2.0, 0.0), (5.0, 1.0, 1.0)),
    1: ((16, 1, 1), (4, 1, 1), (2.0, 0.0, 0.0), (3.0, 1.0, 1.0)),
}


def analytic_density(dims, left, right):
    """rho = 1 + x + 2y + 3z at the cell centres, in hydro's layout [k, j, i]."""
    centres = [left[a] + (np.arange(dims[a]) + 0.5) * (right[a] - left[a]) / dims[a]
               for a in range(3)]
    z, y, x = np.meshgrid(centres[2], centres[1], centres[0], indexing="ij")
    return 1.0 + x + 2.0 * y + 3.0 * z


def block_layout(dims, blocks):
    """(left_index, cells) of each block, x fastest, for an even split."""
    sizes = [dims[a] // blocks[a] for a in range(3)]
    return [((bx * sizes[0], by * sizes[1], bz * sizes[2]), sizes)
            for bz in range(blocks[2]) for by in range(blocks[1]) for bx in range(blocks[0])]


def conserved_block(rng, cells):
    """Random conserved variables [var, k, j, i] including awkward bit patterns."""
    values = rng.standard_normal((NVAR, cells[2], cells[1], cells[0]))
    values.flat[0] = -0.0
    values.flat[1] = 5e-324  # smallest subnormal
    values.flat[2] = np.nextafter(1.0, 2.0)
    return values


def write_case(path, dimensionality, units=CGS, restart_attrs=None):
    """Write the analytic snapshot of CASES[dimensionality]; return what was written."""
    dims, blocks, left, right = CASES[dimensionality]
    rho = analytic_density(dims, left, right)
    rng = np.random.default_rng(dimensionality)
    layout = block_layout(dims, blocks)
    conserved = []
    attrs = {"params_yaml": "problem: test\ngamma: 1.4\n", "output_index": 7, "nvar": NVAR,
             "version": "0.1.0", "cfl": 0.4, "mpi": False}
    if restart_attrs is not None:
        attrs = restart_attrs
    with SnapshotWriter(path, dimensionality=dimensionality, domain_dims=dims,
                        domain_left=left, domain_right=right, time=TIME, cycle=CYCLE,
                        boundary_codes=(0, 0, 1, 2, 0, 0), field_units=FIELD_UNITS,
                        units=units, restart_attrs=attrs, n_grids=len(layout)) as writer:
        for gid, (start, cells) in enumerate(layout):
            window = tuple(slice(start[a], start[a] + cells[a]) for a in (2, 1, 0))
            block_rho = rho[window]
            fields = {"density": block_rho, "velocity_x": -block_rho,
                      "pressure": 2.0 * block_rho, "passive": np.full_like(block_rho, 0.5)}
            conserved.append(conserved_block(rng, cells))
            writer.write_grid(gid, start, fields, conserved[-1])
    return {"rho": rho, "layout": layout, "conserved": conserved, "attrs": attrs,
            "dims": dims, "left": left, "right": right}


@pytest.mark.parametrize("dimensionality", [3, 2, 1])
def test_yt_round_trip(tmp_path, dimensionality):
    path = tmp_path / "snap.h5"
    written = write_case(path, dimensionality)
    ds = yt.load(str(path))

    assert ds.dimensionality == dimensionality
    np.testing.assert_array_equal(ds.domain_dimensions, written["dims"])
    np.testing.assert_array_equal(ds.domain_left_edge.to("code_length").d, written["left"])
    np.testing.assert_array_equal(ds.domain_right_edge.to("code_length").d, written["right"])
    assert float(ds.current_time.to("s")) == TIME
    assert ds.periodicity == (True, False, True)
    assert ds.index.num_grids == len(written["layout"])

    grid = ds.covering_grid(0, ds.domain_left_edge, ds.domain_dimensions)
    expected = written["rho"].T  # [k, j, i] -> yt's [ix, iy, iz]
    density = grid["gas", "density"]
    assert str(density.units) == "g/cm**3"
    np.testing.assert_array_equal(density.d, expected)
    np.testing.assert_array_equal(grid["gas", "velocity_x"].to("cm/s").d, -expected)
    np.testing.assert_array_equal(grid["gas", "pressure"].to("dyn/cm**2").d, 2.0 * expected)
    passive = grid["gdf", "passive"]
    assert passive.units.is_dimensionless
    np.testing.assert_array_equal(passive.d, 0.5)


def test_gdf_layout_on_disk(tmp_path):
    path = tmp_path / "snap.h5"
    written = write_case(path, 3)
    with h5py.File(path, "r") as f:
        assert f["grid_particle_count"].shape == (len(written["layout"]), 1)
        assert f["simulation_parameters"].attrs["num_ghost_zones"] == 0
        assert isinstance(f["field_types/density"].attrs["field_units"], np.bytes_)
        for gid, (start, cells) in enumerate(written["layout"]):
            np.testing.assert_array_equal(f["grid_left_index"][gid], start)
            np.testing.assert_array_equal(f["grid_dimensions"][gid], cells)
            assert f["data/grid_%010i/density" % gid].shape == tuple(cells)


def test_length_unit_in_parsec(tmp_path):
    path = tmp_path / "snap.h5"
    units = dict(CGS, length_unit=(3.0857e18, "cm"))
    write_case(path, 2, units=units)
    ds = yt.load(str(path))
    assert float(ds.length_unit.to("pc")) == pytest.approx(1.0, rel=1e-4)
    density = ds.r[:]["gas", "density"]
    assert float(density.to("g/cm**3").min()) == pytest.approx(
        float(density.to("code_mass/code_length**3").min()) / 3.0857e18**3)


@pytest.mark.parametrize("dimensionality", [3, 1])
def test_read_restart_bit_for_bit(tmp_path, dimensionality):
    path = tmp_path / "snap.h5"
    written = write_case(path, dimensionality)
    header, grids = read_restart(path)

    assert header == dict(written["attrs"], time=TIME, cycle=CYCLE)
    assert read_header(path) == header
    assert len(grids) == len(written["layout"])
    for (left_index, conserved), (start, _), original in zip(
            grids, written["layout"], written["conserved"]):
        assert left_index.dtype == np.int64
        np.testing.assert_array_equal(left_index, start)
        assert conserved.dtype == np.float64 and conserved.shape == original.shape
        np.testing.assert_array_equal(conserved.view(np.uint64), original.view(np.uint64))


def test_long_text_attribute(tmp_path):
    path = tmp_path / "snap.h5"
    text = "key: value\n" * 20000  # well above HDF5's 64 KiB compact attribute limit
    write_case(path, 1, restart_attrs={"params_yaml": text})
    assert read_header(path)["params_yaml"] == text


def test_read_restart_rejects_other_files(tmp_path):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f.create_group("gridded_data_format")
    with pytest.raises(ValueError, match="not a hydro snapshot"):
        read_restart(plain)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(ValueError, match="not a hydro snapshot"):
        read_header(text)


def test_exception_leaves_no_file(tmp_path):
    path = tmp_path / "snap.h5"
    with pytest.raises(RuntimeError, match="boom"):
        with SnapshotWriter(path, dimensionality=1, domain_dims=(4, 1, 1),
                            domain_left=(0, 0, 0), domain_right=(1, 1, 1), time=0.0,
                            cycle=0, boundary_codes=(2,) * 6,
                            field_units={"density": "code_mass/code_length**3"},
                            units=CGS, restart_attrs={}, n_grids=2) as writer:
            writer.write_grid(0, (0, 0, 0), {"density": np.ones((1, 1, 2))},
                              np.ones((NVAR, 1, 1, 2)))
            assert (tmp_path / "snap.h5.tmp").exists()
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_old_file(tmp_path):
    path = tmp_path / "snap.h5"
    write_case(path, 1)
    before = path.read_bytes()
    with pytest.raises(KeyError):
        with SnapshotWriter(path, dimensionality=1, domain_dims=(4, 1, 1),
                            domain_left=(0, 0, 0), domain_right=(1, 1, 1), time=1.0,
                            cycle=1, boundary_codes=(2,) * 6,
                            field_units={"density": ""}, units=CGS, restart_attrs={},
                            n_grids=1):
            raise KeyError("crash in the solver")
    assert path.read_bytes() == before
    assert not (tmp_path / "snap.h5.tmp").exists()


def test_missing_grid_is_an_error(tmp_path):
    path = tmp_path / "snap.h5"
    with pytest.raises(RuntimeError, match=r"1 of 2 grids never written: \[1\]"):
        with SnapshotWriter(path, dimensionality=1, domain_dims=(4, 1, 1),
                            domain_left=(0, 0, 0), domain_right=(1, 1, 1), time=0.0,
                            cycle=0, boundary_codes=(0,) * 6, field_units={"density": ""},
                            units=CGS, restart_attrs={}, n_grids=2) as writer:
            writer.write_grid(0, (0, 0, 0), {"density": np.ones((1, 1, 2))},
                              np.ones((NVAR, 1, 1, 2)))
    assert list(tmp_path.iterdir()) == []


def test_write_grid_validation(tmp_path):
    path = tmp_path / "snap.h5"
    with pytest.raises(ValueError):
        with SnapshotWriter(path, dimensionality=2, domain_dims=(4, 4, 1),
                            domain_left=(0, 0, 0), domain_right=(1, 1, 1), time=0.0,
                            cycle=0, boundary_codes=(0,) * 6, field_units={"density": ""},
                            units=CGS, restart_attrs={}, n_grids=1) as writer:
            ones = np.ones((1, 4, 4))
            with pytest.raises(ValueError, match="do not fit"):
                writer.write_grid(0, (1, 0, 0), {"density": ones}, np.ones((NVAR, 1, 4, 4)))
            with pytest.raises(ValueError, match="differ from field_units"):
                writer.write_grid(0, (0, 0, 0), {"rho": ones}, np.ones((NVAR, 1, 4, 4)))
            with pytest.raises(ValueError, match="float64"):
                writer.write_grid(0, (0, 0, 0), {"density": ones},
                                  np.ones((NVAR, 1, 4, 4), dtype=np.float32))
            with pytest.raises(ValueError, match="shape"):
                writer.write_grid(0, (0, 0, 0), {"density": ones.T}, np.ones((NVAR, 1, 4, 4)))
            writer.write_grid(0, (0, 0, 0), {"density": ones}, np.ones((NVAR, 1, 4, 4)))
            writer.write_grid(0, (0, 0, 0), {"density": ones}, np.ones((NVAR, 1, 4, 4)))
    assert list(tmp_path.iterdir()) == []


def test_writer_copies_can_share_the_file(tmp_path):
    """The MPI pattern: a pickled copy of the writer fills some of the blocks."""
    path = tmp_path / "snap.h5"
    with SnapshotWriter(path, dimensionality=1, domain_dims=(4, 1, 1),
                        domain_left=(0, 0, 0), domain_right=(1, 1, 1), time=0.0, cycle=0,
                        boundary_codes=(0,) * 6, field_units={"density": ""}, units=CGS,
                        restart_attrs={}, n_grids=2) as writer:
        other_rank = pickle.loads(pickle.dumps(writer))
        other_rank.write_grid(1, (2, 0, 0), {"density": np.full((1, 1, 2), 2.0)},
                              np.full((NVAR, 1, 1, 2), 2.0))
        writer.write_grid(0, (0, 0, 0), {"density": np.ones((1, 1, 2))},
                          np.ones((NVAR, 1, 1, 2)))
    ds = yt.load(str(path))  # keep a reference: yt's data objects hold only a weakref
    grid = ds.covering_grid(0, (0, 0, 0), (4, 1, 1))
    np.testing.assert_array_equal(grid["gdf", "density"].d.ravel(), [1.0, 1.0, 2.0, 2.0])


@pytest.mark.parametrize("dimensionality, extra", [(1, ["--log"]), (2, []),
                                                   (3, ["--axis", "x"])])
def test_plot_writes_png(tmp_path, dimensionality, extra):
    path = tmp_path / "out_0003.h5"
    write_case(path, dimensionality)
    assert plot.main([str(path), "--field", "density", *extra]) == 0
    png = tmp_path / "out_0003_density.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 1000


def test_plot_out_option(tmp_path):
    path = tmp_path / "snap.h5"
    write_case(path, 2)
    out = tmp_path / "figures" / "p.png"
    out.parent.mkdir()
    assert plot.main([str(path), "--field", "pressure", "--out", str(out), "--log"]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")


def test_plot_errors(tmp_path, capsys):
    assert plot.main([str(tmp_path / "missing.h5")]) == 2
    assert "no such snapshot file" in capsys.readouterr().err
    path = tmp_path / "snap.h5"
    write_case(path, 1)
    assert plot.main([str(path), "--field", "entropy"]) == 2
    err = capsys.readouterr().err
    assert "unknown field 'entropy'" in err and "density, passive, pressure" in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.glob("*.png")) == []


# --------------------------------------------------------------------------
# issue 16: spherical profiles, bad input to the plot, gamma, dimensionless runs
# --------------------------------------------------------------------------

SPHERICAL_FIELDS = {"density": FIELD_UNITS["density"], "velocity_x": FIELD_UNITS["velocity_x"],
                    "pressure": FIELD_UNITS["pressure"]}
R_LEFT, R_RIGHT, NR = 0.5, 2.5, 16


def write_spherical(path, units=CGS, gamma=None):
    """A 1D spherical snapshot in two blocks: rho = 1 + r, v_r = r, p = 2 + r**2."""
    r = R_LEFT + (np.arange(NR) + 0.5) * (R_RIGHT - R_LEFT) / NR
    with SnapshotWriter(path, dimensionality=1, domain_dims=(NR, 1, 1),
                        domain_left=(R_LEFT, 0.0, 0.0), domain_right=(R_RIGHT, np.pi, 2 * np.pi),
                        geometry="spherical", time=TIME, cycle=CYCLE,
                        boundary_codes=(1, 2, 0, 0, 0, 0), field_units=SPHERICAL_FIELDS,
                        units=units, restart_attrs={}, n_grids=2,
                        **({} if gamma is None else {"gamma": gamma})) as writer:
        for gid in range(2):
            rb = r[gid * NR // 2:(gid + 1) * NR // 2].reshape(1, 1, -1)
            writer.write_grid(gid, (gid * NR // 2, 0, 0),
                              {"density": 1.0 + rb, "velocity_x": rb, "pressure": 2.0 + rb**2},
                              np.zeros((NVAR, 1, 1, NR // 2)))
    return r


def test_gamma_gives_yt_sound_speed_and_mach_number(tmp_path):
    """yt's GDF frontend turns every dataset under /dataset_units into an attribute of
    the dataset: the writer's gamma becomes ds.gamma, and with it yt's sound speed."""
    path = tmp_path / "snap.h5"
    r = write_spherical(path, gamma=1.4)
    ds = yt.load(str(path))
    assert float(ds.gamma) == 1.4
    assert ds.parameters["gamma"] == 1.4
    ad = ds.all_data()
    order = np.argsort(ad["index", "r"].d)
    np.testing.assert_array_equal(ad["index", "r"].d[order], r)
    cs = ad["gas", "sound_speed"].to("cm/s").d[order]
    np.testing.assert_allclose(cs, np.sqrt(1.4 * (2.0 + r**2) / (1.0 + r)), rtol=1e-15)
    # hydro's velocity_x on a spherical grid is yt's ('gas', 'velocity_r')
    np.testing.assert_array_equal(ad["gas", "velocity_r"].to("cm/s").d[order], r)
    np.testing.assert_allclose(ad["gas", "mach_number"].d[order], r / cs, rtol=1e-15)


def test_dimensionless_snapshot_is_marked_and_loads_plainly(tmp_path):
    """units=None: code units without a physical meaning, marked in the file; yt.load
    still works and yt's numbers are the code values."""
    marked, physical = tmp_path / "marked.h5", tmp_path / "physical.h5"
    write_spherical(marked, units=None)
    write_spherical(physical)
    with h5py.File(marked, "r") as f:
        assert f["simulation_parameters"].attrs["dimensionless_units"] == 1
    with h5py.File(physical, "r") as f:
        assert f["simulation_parameters"].attrs["dimensionless_units"] == 0
    ds = yt.load(str(marked))
    assert ds.parameters["dimensionless_units"] == 1
    assert float(ds.current_time.to("code_time")) == TIME
    assert float(ds.all_data()["gas", "density"].to("code_density").max()) == 1.0 + 2.4375


def test_plot_profile_of_spherical_data_is_against_r(tmp_path):
    path = tmp_path / "snap.h5"
    r = write_spherical(path, units=dict(CGS, length_unit=(1.0, "pc")))
    assert plot.main([str(path), "--field", "density"]) == 0
    assert (tmp_path / "snap_density.png").read_bytes().startswith(b"\x89PNG")
    assert plot.main([str(path), "--field", "velocity_r"]) == 0
    assert (tmp_path / "snap_velocity_r.png").read_bytes().startswith(b"\x89PNG")
    ds = yt.load(str(path))
    fig = plot.profile_figure(ds, ("gas", "density"))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "r [pc]"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), r, rtol=1e-15)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), (1.0 + r) / 3.0856775809623245e18**3,
                               rtol=1e-14)
    assert ax.get_xlim() == (R_LEFT, R_RIGHT)
    with_gamma = tmp_path / "gamma.h5"
    write_spherical(with_gamma, gamma=5 / 3)
    assert plot.main([str(with_gamma), "--field", "mach_number", "--log"]) == 0


def test_plot_labels_of_dimensionless_data_carry_no_units(tmp_path):
    one_d, two_d = tmp_path / "a.h5", tmp_path / "b.h5"
    write_spherical(one_d, units=None)
    ds = yt.load(str(one_d))
    assert plot.time_label(ds) == f"{TIME:.6g}"
    ax = plot.profile_figure(ds, ("gas", "density")).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("r", "density")
    write_case(two_d, 2)
    with h5py.File(two_d, "r+") as f:  # the marker, as a dimensionless run writes it
        f["simulation_parameters"].attrs["dimensionless_units"] = 1
    ds = yt.load(str(two_d))
    assert plot.time_label(ds) == f"{TIME:.6g}"
    slc = plot.slice_plot(ds, ("gas", "density"), "z")
    slc.render()
    axes = slc.plots["gas", "density"].axes
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("x", "y")
    assert slc.plots["gas", "density"].cb.ax.get_ylabel() == "density"
    xmin, xmax = axes.get_xlim()
    assert (xmin, xmax) == pytest.approx((0.0, 5.0), rel=1e-12)


def test_plot_labels_of_physical_data_carry_the_run_units(tmp_path):
    path = tmp_path / "snap.h5"
    write_case(path, 2, units={"length_unit": (1.0, "pc"), "mass_unit": (1.0, "Msun"),
                               "time_unit": (1.0, "kyr")})
    ds = yt.load(str(path))
    assert plot.time_label(ds) == f"{TIME:.6g} kyr"


def _one_line_error(capsys, needle):
    err = capsys.readouterr().err
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_plot_rejects_bad_files_and_outputs(tmp_path, capsys):
    """Exit 2 with one line on stderr, and no picture, for every kind of bad input."""
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an HDF5 file at all\n" * 100)
    assert plot.main([str(garbage)]) == 2
    _one_line_error(capsys, "garbage.h5")

    good = tmp_path / "good.h5"
    write_case(good, 2)
    truncated = tmp_path / "truncated.h5"
    data = good.read_bytes()
    truncated.write_bytes(data[:len(data) // 3])
    assert plot.main([str(truncated)]) == 2
    _one_line_error(capsys, "truncated.h5")

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(10.0)
    assert plot.main([str(other)]) == 2
    _one_line_error(capsys, "not a GDF snapshot")

    assert plot.main([str(tmp_path)]) == 2  # a directory
    _one_line_error(capsys, str(tmp_path))

    assert plot.main([str(good), "--out", str(tmp_path / "missing" / "p.png")]) == 2
    _one_line_error(capsys, "missing")
    assert plot.main([str(good), "--out", str(garbage / "p.png")]) == 2  # parent is a file
    _one_line_error(capsys, "garbage.h5")
    assert plot.main([str(good), "--field", "velocity_r"]) == 2
    _one_line_error(capsys, "unknown field 'velocity_r'")
    # a field yt lists but cannot compute: no gamma in this file
    assert plot.main([str(good), "--field", "sound_speed"]) == 2
    _one_line_error(capsys, "sound_speed")
    assert list(tmp_path.rglob("*.png")) == []


def test_plot_rejects_an_unwritable_directory(tmp_path, capsys, monkeypatch):
    good = tmp_path / "good.h5"
    write_case(good, 1)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    real_access = plot.os.access
    # root may write anywhere: let access() answer as it would for a user
    monkeypatch.setattr(plot.os, "access", lambda p, mode: False if str(p) == str(locked)
                        else real_access(p, mode))
    assert plot.main([str(good), "--out", str(locked / "p.png")]) == 2
    _one_line_error(capsys, "not writable")
    assert list(locked.iterdir()) == []
