"""Snapshot files: Grid Data Format (GDF) for analysis, plus exact restart data.

One HDF5 file per output serves two readers:

* yt, through its GDF frontend. The layout follows the GDF specification
  ("Gridded Data Format", version 1.0, the yt project's grid_data_format
  spec) with the extra constraints that yt 4.4 imposes (measured, see
  shared/notes/yt-gdf-and-xray.md)::

      /gridded_data_format                 attrs format_version, data_software
      /simulation_parameters               attrs (refine_by, dimensionality, ...)
      /dataset_units/{length,mass,time}_unit   scalar datasets, attr "unit"
      /dataset_units/gamma                 scalar, attr "unit" = "dimensionless"
      /field_types/<field>                 attrs field_name, field_units, staggering
      /particle_types                      empty
      /grid_left_index      int64 (N, 3)   first active cell of each block
      /grid_dimensions      int64 (N, 3)   active cells of each block (nx, ny, nz)
      /grid_level           int64 (N,)     all 0 (no mesh refinement)
      /grid_parent_id       int64 (N,)     all -1
      /grid_particle_count  int64 (N, 1)   all 0
      /data/grid_%010i/<field>   float64, shape (nx, ny, nz), stored [ix, iy, iz]

  yt requirements beyond the spec: ``field_units`` must be numpy *bytes* (a
  Python str attribute crashes ``yt.load``); ``num_ghost_zones`` must be 0, so
  only active cells are written; ``grid_particle_count`` must be (N, 1);
  ``unique_identifier`` is mandatory; ``dataset_units`` holds all three base
  units or none; ``field_to_cgs`` is not written (it breaks yt's units).
  yt never checks array shapes, so the [k, j, i] -> [ix, iy, iz] transpose
  done here is covered by a round-trip test with a non-symmetric field.

  What yt derives from the file:

  - ``ds.gamma``, and with it yt's ``sound_speed`` and ``mach_number``: yt's
    GDF frontend reads every scalar dataset under ``/dataset_units`` into an
    attribute of the dataset named after it (``_set_code_unit_attributes``
    in ``yt/frontends/gdf/data_structures.py``, yt 4.4), so the writer puts
    the adiabatic index there as a dimensionless quantity. It is also a
    ``simulation_parameters`` attribute, which yt copies into ``ds.parameters``.
  - Vector components on a spherical grid: yt's GDF field list knows only
    ``velocity_x/y/z``, and in curvilinear geometry it aliases those to the
    components along its own axes, ``("gas", "velocity_r")``,
    ``velocity_theta`` and ``velocity_phi``. A spherical snapshot therefore
    stores the radial velocity as ``velocity_x``, hydro's own name for the
    first axis: any other name would stay a ``("gdf", ...)`` field.
  - Dimensionless runs: yt has no dimensionless code units (it makes them
    cm, g and s), so a run without physical units is written with 1 cm,
    1 g, 1 s and marked with ``simulation_parameters`` attribute
    ``dimensionless_units`` = 1 (0 for physical units), which yt copies into
    ``ds.parameters``: ``hydro plot`` then labels axes and time without
    units, and so should any analysis.

* the restart path of hydro (:func:`read_restart`, :func:`read_header`),
  through a root group that yt ignores::

      /hydro_restart                       attrs: restart attrs, time, cycle
      /hydro_restart/grid_%010i/conserved  float64 [var, k, j, i], bit-for-bit

Fields passed in use hydro's layout ``[k, j, i]`` (x fastest; shape
``(nz, ny, nx)``, singleton axes for unused dimensions).
"""

import contextlib
import math
import operator
import os
import uuid

import h5py
import numpy as np

RESTART_GROUP = "hydro_restart"
"""Root group holding the restart data; yt's GDF reader does not look at it."""

UNIT_KEYS = ("length_unit", "mass_unit", "time_unit")
"""Keys of the ``units`` argument, written to GDF ``/dataset_units``."""

DIMENSIONLESS_GDF_UNITS = {"length_unit": (1.0, "cm"), "mass_unit": (1.0, "g"),
                           "time_unit": (1.0, "s")}
"""What a dimensionless run writes to ``/dataset_units``: yt needs physical base units."""

_RESERVED_ATTRS = ("time", "cycle")
GEOMETRY_CODES = {"cartesian": 0, "spherical": 3}  # yt's GDF reader: (r, theta, phi)
_BOUNDARY_CODES = (0, 1, 2)  # GDF: 0 periodic, 1 mirror (reflecting), 2 outflow


def _grid_name(gid):
    """Group name of block ``gid``, as the GDF specification spells it."""
    return "grid_%010i" % gid


class SnapshotWriter:
    """Context manager. Writes ``path + '.tmp'`` and renames to ``path`` only on successful exit
    (on exception: removes the temp file, re-raises). A crash never leaves a partial file under
    the final name.

    ``__init__`` validates the arguments and creates the temporary file with
    the complete header and grid tables of ``n_grids`` rows. Each
    :meth:`write_grid` fills one row of the tables and the groups of one
    block. Leaving the ``with`` block normally checks that every block was
    written, flushes the file to disk and renames it to ``path``; if a block is
    missing, the temporary file is removed and ``RuntimeError`` is raised.

    File handles: the writer never keeps an HDF5 file open between calls.
    ``__init__`` and every ``write_grid`` open the temporary file, do their
    work and close it again, so the object holds only plain Python data and
    can be pickled. This is what lets MPI ranks without parallel HDF5 write
    one file together: rank 0 creates the writer and broadcasts it, the ranks
    call ``write_grid`` for their own blocks one after another (serialised,
    e.g. by a token or barriers), and after a final barrier only rank 0 leaves
    the ``with`` block. Concurrent ``write_grid`` calls on one file are not
    allowed (serial HDF5).

    Parameters
    ----------
    path : str or os.PathLike
        Final file name.
    dimensionality : int
        1, 2 or 3; the used axes are the first ``dimensionality`` of x, y, z.
    domain_dims : sequence of 3 ints
        Global number of active cells along x, y, z (1 on unused axes).
    domain_left, domain_right : sequence of 3 floats
        Domain edges in code length (use 0 and 1 on unused axes).
    time : float
        Simulation time in code time.
    cycle : int
        Step number.
    boundary_codes : sequence of 6 ints
        GDF boundary codes for xL, xR, yL, yR, zL, zR: 0 periodic,
        1 mirror (reflecting), 2 outflow. yt takes an axis as periodic when
        its left code is 0.
    field_units : dict
        Field name -> unit string, e.g. ``"code_mass/code_length**3"`` or
        ``""`` for a dimensionless field. Every grid must supply exactly
        these fields.
    units : dict or None
        ``length_unit``, ``mass_unit``, ``time_unit``: each a
        ``(value, unit_string)`` pair such as ``(1.0, "pc")`` or
        ``(3.0857e18, "cm")``, giving the code units; the unit string is
        also the unit yt shows the dataset's lengths, masses and times in.
        ``None``: the run has no physical units (dimensionless code units),
        see the module docstring.
    restart_attrs : dict
        Flat dict of str, bool, int or float values (e.g. the parameter file
        text, code version, output index), returned by :func:`read_header`.
        The keys ``time`` and ``cycle`` are reserved.
    n_grids : int
        Number of blocks; ``write_grid`` must be called once for each gid in
        ``range(n_grids)``.
    geometry : str
        "cartesian" or "spherical" (1D: x is the radius; give the domain as
        ``(r_min, 0, 0)`` to ``(r_max, pi, 2 pi)``, yt's (r, theta, phi)).
    gamma : float or None
        Adiabatic index of the gas, for yt's ``ds.gamma`` (see the module
        docstring); ``None`` writes none.
    parameters : dict or None
        More ``simulation_parameters`` attributes (str or numbers), e.g. what a
        system's axes are; yt copies them into ``ds.parameters``.
    """

    def __init__(self, path, *, dimensionality, domain_dims, domain_left, domain_right,
                 time, cycle, boundary_codes, field_units, units, restart_attrs, n_grids,
                 geometry="cartesian", gamma=None, parameters=None):
        self.path = os.fspath(path)
        self.tmp_path = self.path + ".tmp"
        self._domain_dims = np.asarray(domain_dims, dtype=np.int64)
        self._field_names = tuple(field_units)
        self._n_grids = operator.index(n_grids)
        left = np.asarray(domain_left, dtype=np.float64)
        right = np.asarray(domain_right, dtype=np.float64)
        boundary = np.asarray(boundary_codes, dtype=np.int64)
        _check_domain(dimensionality, self._domain_dims, left, right, boundary)
        _check_fields(field_units)
        _check_units(units)
        if gamma is not None and not (math.isfinite(gamma) and gamma > 1.0):
            raise ValueError(f"gamma must be a finite number > 1, got {gamma!r}")
        if geometry not in GEOMETRY_CODES:
            raise ValueError(f"geometry must be one of {sorted(GEOMETRY_CODES)}, "
                             f"got {geometry!r}")
        _check_restart_attrs(restart_attrs)
        parameters = dict(parameters or {})
        _check_restart_attrs(parameters)
        if self._n_grids < 1:
            raise ValueError(f"n_grids must be at least 1, got {self._n_grids}")

        try:
            with h5py.File(self.tmp_path, "w") as f:
                _write_gdf_header(f, dimensionality, self._domain_dims, left, right,
                                  time, boundary, field_units, units, self._n_grids,
                                  geometry, gamma, parameters)
                restart = f.create_group(RESTART_GROUP)
                for key, value in restart_attrs.items():
                    restart.attrs[key] = value
                restart.attrs["time"] = np.float64(time)
                restart.attrs["cycle"] = np.int64(cycle)
        except BaseException:
            _remove(self.tmp_path)
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.discard()
            return False
        self.commit()
        return False

    def discard(self):
        """Remove the temporary file (a write that failed)."""
        _remove(self.tmp_path)

    def commit(self):
        """Check that every grid was written, then rename to the final name (a reader
        never sees a partial file; no fsync: on a parallel file system it costs more
        than the write, and a crash of the node loses at most the newest snapshot)."""
        try:
            missing = self._missing_grids()
            if missing:
                more = " ..." if len(missing) > 10 else ""
                raise RuntimeError(f"{self.path}: {len(missing)} of {self._n_grids} grids "
                                   f"never written: {missing[:10]}{more}")
            os.replace(self.tmp_path, self.path)
        except BaseException:
            _remove(self.tmp_path)
            raise

    def write_grid(self, gid, left_index, fields, conserved):
        """Write block ``gid`` into the temporary file.

        Parameters
        ----------
        gid : int
            Block number, ``0 <= gid < n_grids``; each is written once.
        left_index : sequence of 3 ints
            Global (x, y, z) index of the block's first active cell.
        fields : dict
            Field name -> array in hydro's layout ``[k, j, i]`` (shape
            ``(nz, ny, nx)``, active cells only), for exactly the fields
            named in ``field_units``. Stored as float64, transposed to GDF's
            ``[ix, iy, iz]``.
        conserved : numpy.ndarray
            float64 array ``[var, k, j, i]`` of the block's active cells,
            stored unchanged for restarts.
        """
        gid = operator.index(gid)
        if not 0 <= gid < self._n_grids:
            raise ValueError(f"gid {gid} outside range({self._n_grids})")
        if not isinstance(conserved, np.ndarray) or conserved.dtype != np.float64 \
                or conserved.ndim != 4:
            raise ValueError("conserved must be a float64 numpy array [var, k, j, i]")
        shape_kji = conserved.shape[1:]
        dims = np.array(shape_kji[::-1], dtype=np.int64)
        left_index = np.asarray(left_index, dtype=np.int64)
        if left_index.shape != (3,):
            raise ValueError(f"left_index must have 3 entries, got {left_index.tolist()}")
        if np.any(left_index < 0) or np.any(left_index + dims > self._domain_dims):
            raise ValueError(f"grid {gid}: cells {left_index.tolist()} + {dims.tolist()} "
                             f"do not fit in domain {self._domain_dims.tolist()}")
        if set(fields) != set(self._field_names):
            raise ValueError(f"grid {gid}: fields {sorted(fields)} differ from "
                             f"field_units {sorted(self._field_names)}")
        gdf_arrays = {}
        for name in self._field_names:
            values = np.asarray(fields[name], dtype=np.float64)
            if values.shape != shape_kji:
                raise ValueError(f"grid {gid}: field {name!r} has shape {values.shape}, "
                                 f"conserved has cells {shape_kji}")
            gdf_arrays[name] = np.ascontiguousarray(values.T)

        group_name = _grid_name(gid)
        with h5py.File(self.tmp_path, "r+") as f:
            if group_name in f["data"]:
                raise ValueError(f"grid {gid} written twice")
            f["grid_left_index"][gid] = left_index
            f["grid_dimensions"][gid] = dims
            block = f["data"].create_group(group_name)
            for name, values in gdf_arrays.items():
                block.create_dataset(name, data=values)
            f[RESTART_GROUP].create_group(group_name).create_dataset("conserved",
                                                                     data=conserved)

    def _missing_grids(self):
        """Grid ids whose data group is absent from the temporary file."""
        with h5py.File(self.tmp_path, "r") as f:
            written = f["data"]
            return [gid for gid in range(self._n_grids) if _grid_name(gid) not in written]


def read_header(path):
    """Return the restart attributes of snapshot ``path`` plus ``time`` and ``cycle``.

    Reads attributes only (no arrays). Values come back as Python str, bool,
    int or float; ``time`` and ``cycle`` are exactly the values written.
    Raises ``ValueError`` if ``path`` is not a hydro snapshot.
    """
    with _open_snapshot(path) as f:
        return _header(f[RESTART_GROUP])


def read_restart(path):
    """Read the restart data of snapshot ``path``.

    Returns ``(header, grids)``: ``header`` as from :func:`read_header`;
    ``grids`` a list indexed by gid of ``(left_index, conserved)`` with
    ``left_index`` an int64 array of 3 (x, y, z) and ``conserved`` the float64
    array ``[var, k, j, i]`` exactly as written. Raises ``ValueError`` if
    ``path`` is not a hydro snapshot.
    """
    with _open_snapshot(path) as f:
        restart = f[RESTART_GROUP]
        left_indices = f["grid_left_index"][()]
        grids = [(left_indices[gid].copy(), restart[_grid_name(gid)]["conserved"][()])
                 for gid in range(len(left_indices))]
        return _header(restart), grids


def read_conserved_region(path, left_index, nx):
    """The conserved state of the box of ``nx`` (x, y, z) cells starting at global
    ``left_index``, assembled from whichever grids of snapshot ``path`` overlap it
    (so a run can restart on a different number of blocks).

    Returns ``(header, conserved)`` with ``conserved`` float64 ``[var, k, j, i]``.
    Raises ``ValueError`` if the grids do not cover the box.
    """
    lo = np.asarray(left_index, dtype=np.int64)
    hi = lo + np.asarray(nx, dtype=np.int64)
    with _open_snapshot(path) as f:
        restart = f[RESTART_GROUP]
        header = _header(restart)
        lefts = f["grid_left_index"][()]
        dims = f["grid_dimensions"][()]
        out, covered = None, 0
        for gid in range(len(lefts)):
            a = np.maximum(lo, lefts[gid])
            b = np.minimum(hi, lefts[gid] + dims[gid])
            if np.any(b <= a):
                continue
            data = restart[_grid_name(gid)]["conserved"]
            if out is None:
                out = np.empty((data.shape[0],) + tuple(int(n) for n in (hi - lo)[::-1]))
            src = (slice(None),) + tuple(slice(a[d] - lefts[gid][d], b[d] - lefts[gid][d])
                                         for d in (2, 1, 0))
            dst = (slice(None),) + tuple(slice(a[d] - lo[d], b[d] - lo[d]) for d in (2, 1, 0))
            out[dst] = data[src]
            covered += int(np.prod(b - a))
    if out is None or covered != int(np.prod(hi - lo)):
        raise ValueError(f"{path}: the grids do not cover cells {lo.tolist()} + "
                         f"{(hi - lo).tolist()}")
    return header, out


def _open_snapshot(path):
    """Open ``path`` read-only, checking that it is a hydro snapshot."""
    path = os.fspath(path)
    if os.path.isfile(path) and not h5py.is_hdf5(path):
        raise ValueError(f"{path}: not a hydro snapshot (not an HDF5 file)")
    f = h5py.File(path, "r")
    if RESTART_GROUP not in f:
        f.close()
        raise ValueError(f"{path}: not a hydro snapshot (no {RESTART_GROUP} group)")
    return f


def _header(restart):
    """Attributes of the restart group as a dict of Python scalars."""
    return {key: value.item() if isinstance(value, np.generic) else value
            for key, value in restart.attrs.items()}


def _write_gdf_header(f, dimensionality, domain_dims, left, right, time, boundary,
                      field_units, units, n_grids, geometry, gamma, parameters):
    """Write the GDF groups, attributes and the empty n_grids-row grid tables."""
    gdf = f.create_group("gridded_data_format")
    gdf.attrs["format_version"] = 1.0
    gdf.attrs["data_software"] = "hydro"

    sp = f.create_group("simulation_parameters").attrs
    sp["refine_by"] = np.int64(2)
    sp["dimensionality"] = np.int64(dimensionality)
    sp["domain_dimensions"] = domain_dims
    sp["domain_left_edge"] = left
    sp["domain_right_edge"] = right
    sp["current_time"] = np.float64(time)
    sp["unique_identifier"] = uuid.uuid4().hex
    sp["cosmological_simulation"] = np.int64(0)
    sp["num_ghost_zones"] = np.int64(0)
    sp["field_ordering"] = np.int64(0)  # arrays stored [ix, iy, iz]
    sp["boundary_conditions"] = boundary
    sp["geometry"] = np.int64(GEOMETRY_CODES[geometry])
    sp["dimensionless_units"] = np.int64(units is None)
    for key, value in parameters.items():
        if key in sp:
            raise ValueError(f"parameters: {key!r} is a GDF simulation parameter")
        sp[key] = value

    dataset_units = f.create_group("dataset_units")
    for key in UNIT_KEYS:
        value, unit = DIMENSIONLESS_GDF_UNITS[key] if units is None else units[key]
        dataset_units.create_dataset(key, data=np.float64(value)).attrs["unit"] = unit
    if gamma is not None:
        sp["gamma"] = np.float64(gamma)
        dataset_units.create_dataset("gamma", data=np.float64(gamma)).attrs["unit"] = \
            "dimensionless"

    field_types = f.create_group("field_types")
    for name, unit in field_units.items():
        attrs = field_types.create_group(name).attrs
        attrs["field_name"] = np.bytes_(name.encode())
        attrs["field_units"] = np.bytes_(unit.encode())
        attrs["staggering"] = np.int64(0)  # cell-centred

    f.create_group("particle_types")
    f.create_group("data")
    f.create_dataset("grid_left_index", data=np.zeros((n_grids, 3), dtype=np.int64))
    f.create_dataset("grid_dimensions", data=np.zeros((n_grids, 3), dtype=np.int64))
    f.create_dataset("grid_level", data=np.zeros(n_grids, dtype=np.int64))
    f.create_dataset("grid_parent_id", data=np.full(n_grids, -1, dtype=np.int64))
    f.create_dataset("grid_particle_count", data=np.zeros((n_grids, 1), dtype=np.int64))


def _check_domain(dimensionality, domain_dims, left, right, boundary):
    """Validate the domain description and the boundary codes."""
    if dimensionality not in (1, 2, 3):
        raise ValueError(f"dimensionality must be 1, 2 or 3, got {dimensionality}")
    if domain_dims.shape != (3,) or left.shape != (3,) or right.shape != (3,):
        raise ValueError("domain_dims, domain_left and domain_right need 3 entries each")
    if np.any(domain_dims < 1) or np.any(domain_dims[dimensionality:] != 1):
        raise ValueError(f"domain_dims {domain_dims.tolist()} must be >= 1, "
                         f"and 1 on the axes beyond dimensionality {dimensionality}")
    if not np.all(right > left):
        raise ValueError(f"domain_right {right.tolist()} must exceed "
                         f"domain_left {left.tolist()} on every axis")
    if boundary.shape != (6,) or not np.isin(boundary, _BOUNDARY_CODES).all():
        raise ValueError(f"boundary_codes must be 6 values out of {_BOUNDARY_CODES}, "
                         f"got {boundary.tolist()}")


def _check_fields(field_units):
    """Validate the field names (HDF5 link names) and their unit strings."""
    if not field_units:
        raise ValueError("field_units must name at least one field")
    for name, unit in field_units.items():
        if not isinstance(name, str) or not name or "/" in name or name == ".":
            raise ValueError(f"invalid field name {name!r}")
        if not isinstance(unit, str):
            raise TypeError(f"field {name!r}: unit must be a str, got {unit!r}")


def _check_units(units):
    """Validate the code units: all three base units, as yt requires (or None)."""
    if units is None:
        return
    if set(units) != set(UNIT_KEYS):
        raise ValueError(f"units must have exactly the keys {UNIT_KEYS}, got {sorted(units)}")
    for key in UNIT_KEYS:
        value, unit = units[key]
        if not isinstance(unit, str) or not value > 0:
            raise ValueError(f"units[{key!r}] must be (positive value, unit string), "
                             f"got {units[key]!r}")


def _check_restart_attrs(restart_attrs):
    """Validate that the restart attributes are flat scalars with free keys."""
    for key, value in restart_attrs.items():
        if key in _RESERVED_ATTRS:
            raise ValueError(f"restart_attrs may not use the reserved key {key!r}")
        if not isinstance(value, (str, bool, int, float, np.bool_, np.integer, np.floating)):
            raise TypeError(f"restart_attrs[{key!r}] must be a str or a number, "
                            f"got {type(value).__name__}")


def _remove(path):
    """Delete ``path`` if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
