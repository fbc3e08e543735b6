"""Tests of hydro.gdf (snapshot files) and analysis.plot.

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
from hydro.gdf import SnapshotWriter, read_header, read_restart

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
