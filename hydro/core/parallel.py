"""Parallelism in one place: the process grid, each rank's block, ghost-zone
exchange between blocks, and reductions whose results do not depend on the
number of ranks.

Without ``mpiexec`` this is the one-rank case of the same code: the process
grid is 1 x 1 x 1 and a periodic face exchanges with the block itself.

Threads inside a rank (``threads``) take whole rows or pencils of cells, so
the bits do not depend on the number of threads either.  A rank uses
``NUMBA_NUM_THREADS`` threads if that is set, and one otherwise (``mpiexec -n
<cores>`` then fills a node without oversubscribing it; numba's own default
would be every core for every rank).

Determinism: ghost exchange copies values, the time step is a minimum, and
the history totals are exactly rounded sums (Shewchuk 1997, Discrete Comput.
Geom. 18, 305: each rank keeps the sum of its cells as non-overlapping
partials, and ``math.fsum`` of all ranks' partials is the correctly rounded
total), so every result is the same bits for any decomposition.
"""

import math
import os
import time as wallclock

import numba
import numpy as np
from mpi4py import MPI

from hydro.core.boundary import edge_layers, ghost_slice
from hydro.core.config import ConfigError
from hydro.core.mesh import Block


def split(n, parts, index):
    """(start, count) of piece ``index`` when n cells are cut into ``parts`` near-equal pieces."""
    q, r = divmod(n, parts)
    return index * q + min(index, r), q + (1 if index < r else 0)


def process_grid(size, nx, ng, ndim, ranks=None):
    """Ranks per axis (x, y, z): ``ranks`` if given, else MPI.Compute_dims over the
    active axes with the most ranks on the slowest axis (whose ghost slabs are
    contiguous in memory).  ConfigError if they do not multiply to ``size`` or
    leave a block thinner than its ghost layers."""
    if ranks is None:
        ranks = MPI.Compute_dims(size, ndim)[::-1]
    elif math.prod(ranks) != size:
        raise ConfigError(f"mesh.ranks: {ranks} makes {math.prod(ranks)} blocks, but the run "
                          f"has {size} MPI ranks")
    ranks = list(ranks) + [1] * (3 - len(ranks))
    for a in range(ndim):
        if nx[a] // ranks[a] < max(ng[a], 1):
            raise ConfigError(f"mesh.nx[{a}]: {nx[a]} cells over {ranks[a]} ranks leaves blocks "
                              f"thinner than the {ng[a]} ghost layers; use fewer ranks or "
                              f"set mesh.ranks")
    return ranks


@numba.njit(inline="always")
def _grow(x, partials, count):
    """Add the finite x to the non-overlapping partials[:count] exactly (Shewchuk's
    grow-expansion); the new count."""
    n = 0
    for m in range(count):
        y = partials[m]
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            partials[n] = lo
            n += 1
        x = hi
    partials[n] = x
    return n + 1


@numba.njit(cache=True)
def _add_partials(values, partials, count):
    """Add values to the non-overlapping partials[:count] exactly; the new count, or -1
    at the first value that is not finite.

    Finite doubles never need more partials than ``partials`` holds (see
    ``exact_sums``), but inf or NaN makes every rounding error NaN, which would
    grow the expansion by one partial per value past the buffer's end."""
    for x in values.flat:
        if not abs(x) < np.inf:
            return -1
        count = _grow(x, partials, count)
    return count


# binary exponents of math.frexp for doubles run from -1073 (subnormals) to 1024
_EXPONENT_OFFSET = 1074
_BINNED_MAX = 1023  # 53-bit integers one bin adds before its int64 could overflow
_BINNED_SMALLEST = -960  # below this exponent a value goes to the partials directly


@numba.njit(cache=True)
def _add_binned(values, partials, count):
    """As ``_add_partials``, faster: each value x = m 2^e (``math.frexp``) adds the
    53-bit integer m 2^53 to an int64 bin of its exponent e, exactly; every
    ``_BINNED_MAX`` values the bins go into the partials, each as two doubles that
    hold it exactly.  The result is the same exact sum, so the same correctly
    rounded total: a few ns per value where the grow-expansion takes tens once the
    values span many exponents."""
    bins = np.zeros(_EXPONENT_OFFSET + 1026, dtype=np.int64)
    low, high = bins.size, -1  # the bins in use
    held = 0
    for x in values.flat:
        if not abs(x) < np.inf:
            return -1
        m, e = math.frexp(x)
        if e < _BINNED_SMALLEST:  # near the subnormals 2^(e - 53) would not be exact
            count = _grow(x, partials, count)
            continue
        b = e + _EXPONENT_OFFSET
        bins[b] += np.int64(m * 9007199254740992.0)  # m 2^53: exact, |.| < 2^53
        low, high = min(low, b), max(high, b)
        held += 1
        if held == _BINNED_MAX:
            count = _empty_bins(bins, low, high, partials, count)
            low, high, held = bins.size, -1, 0
    return _empty_bins(bins, low, high, partials, count)


@numba.njit(inline="always")
def _empty_bins(bins, low, high, partials, count):
    """Add bins[low:high + 1] (bin b holds an integer times 2^(b - offset - 53)) to
    the partials, exactly, and zero them."""
    for b in range(low, high + 1):
        k = bins[b]
        if k != 0:
            bins[b] = 0
            hi = np.float64(k)  # k rounded to 53 bits; the rest, |k - hi| <= 2^10, exact
            lo = np.float64(k - np.int64(hi))
            scale = 2.0 ** (b - _EXPONENT_OFFSET - 53)
            count = _grow(hi * scale, partials, count)
            if lo != 0.0:
                count = _grow(lo * scale, partials, count)
    return count


@numba.njit(cache=True)
def _copy_layers(dst, dst_start, src, src_start, axis, n):
    """Copy the n layers of the 4D array src that start at index src_start along
    ``axis`` (0 = x) into dst from dst_start on, every other index unchanged: a
    periodic face onto itself, or a face to or from a message buffer.  (NumPy's
    strided copy is slow on the x faces, whose rows are a few values long.)"""
    u = numba.uint64  # non-negative indices: no wrap-around code, the rows vectorise
    nz, ny, nx = src.shape[1:]
    dz = dy = dx = sz = sy = sx = 0
    if axis == 0:
        nx, dx, sx = n, dst_start, src_start
    elif axis == 1:
        ny, dy, sy = n, dst_start, src_start
    else:
        nz, dz, sz = n, dst_start, src_start
    for v in range(src.shape[0]):
        for k in range(nz):
            for j in range(ny):
                for i in range(nx):
                    dst[u(v), u(k + dz), u(j + dy), u(i + dx)] = \
                        src[u(v), u(k + sz), u(j + sy), u(i + sx)]


_CARTESIAN = {}


def warm_up():
    """Compile (or load) the exact-sum kernel for the arrays the driver sums, which
    ``exact_sums`` hands it as 3D views, contiguous or not (active parts of blocks,
    face slabs); and the layer copy of the ghost exchange, for the state and for the
    flux-correction flags."""
    cells = np.zeros((3, 3, 3))
    for values in (cells, cells[:, :, 1:]):
        _add_binned(values, np.zeros(2), 0)
    for dtype in (np.float64, np.int8):
        field = np.zeros((1, 2, 2, 2), dtype=dtype)
        _copy_layers(field, 0, field, 1, 0, 1)


def _start(index):
    """First index along the axis of an index tuple from ``boundary`` (its last slice)."""
    return index[-1].start


def _cartesian(comm, dims, periodic):
    """The Cartesian communicator for this grid, made once per process: MPI has a
    limited number of communicator contexts, and a process may run many simulations."""
    key = (comm.py2f(), tuple(dims), tuple(bool(p) for p in periodic))
    if key not in _CARTESIAN:
        _CARTESIAN[key] = comm.Create_cart(list(dims), periods=list(key[2]), reorder=False)
    return _CARTESIAN[key]


class Parallel:
    """The communicator, process grid and this rank's place in it.

    ``periodic[axis]`` says whether the process grid wraps along that axis.
    Timers ``comm_time`` and ``io_time`` accumulate the wall time spent in
    communication and in snapshot writing; ``messages`` and ``bytes_sent``
    count the halo messages this rank sent (to check the scaling model).
    """

    def __init__(self, mesh, ranks=None, periodic=(False, False, False),
                 comm=MPI.COMM_WORLD):
        self.comm = comm
        if "NUMBA_NUM_THREADS" not in os.environ:
            numba.set_num_threads(1)
        self.threads = numba.get_num_threads()
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.dims = process_grid(self.size, mesh.nx, mesh.ng, mesh.ndim, ranks)
        self.cart = _cartesian(comm, self.dims, periodic)
        coords = self.cart.Get_coords(self.rank)
        start, count = zip(*(split(mesh.nx[a], self.dims[a], coords[a]) for a in range(3)))
        self.block = Block(start, count, mesh.ng, mesh.dx, mesh.xmin, gid=self.rank,
                           geometry=mesh.geometry, xmax=mesh.xmax)
        # neighbours[axis] = (lower, upper) rank, MPI.PROC_NULL at a non-periodic domain face
        self.neighbours = [self.cart.Shift(a, 1) for a in range(3)]
        self.reset_counters()

    def reset_counters(self):
        self.comm_time = 0.0
        self.io_time = 0.0
        self.messages = 0
        self.bytes_sent = 0

    def has_neighbour(self, axis, side):
        return self.neighbours[axis][side] != MPI.PROC_NULL

    def exchange(self, w, block, axis):
        """Fill the ghost layers of ``w`` along ``axis`` from the neighbouring blocks.

        Non-blocking sends of the active layers next to each face and receives
        into the ghost layers; the message from a neighbour's upper face fills
        this block's lower ghosts (tags name the face a message leaves from).
        The slabs span the other axes' ghosts, so edges and corners are filled
        when the axes are exchanged in turn.
        """
        start = wallclock.perf_counter()
        ng = block.ng[axis]
        requests, received = [], []
        for side in (0, 1):
            neighbour = self.neighbours[axis][side]
            if neighbour == MPI.PROC_NULL:
                continue
            if neighbour == self.rank:  # periodic onto this very block: a plain copy
                _copy_layers(w, _start(ghost_slice(block, axis, side)),
                             w, _start(edge_layers(block, axis, 1 - side)), axis, ng)
                continue
            edge = edge_layers(block, axis, side)
            outgoing = np.empty(w[edge].shape, dtype=w.dtype)
            _copy_layers(outgoing, 0, w, _start(edge), axis, ng)
            incoming = np.empty_like(outgoing)
            requests.append(self.cart.Isend(outgoing, dest=neighbour, tag=2 * axis + side))
            self.messages += 1
            self.bytes_sent += outgoing.nbytes
            requests.append(self.cart.Irecv(incoming, source=neighbour,
                                            tag=2 * axis + 1 - side))
            received.append((side, incoming))
        MPI.Request.Waitall(requests)
        for side, incoming in received:
            _copy_layers(w, _start(ghost_slice(block, axis, side)), incoming, 0, axis, ng)
        self.comm_time += wallclock.perf_counter() - start

    def min(self, value):
        """(global minimum, None), or (NaN, lowest rank holding a NaN) if any rank has one."""
        start = wallclock.perf_counter()
        bad = self.comm.allreduce(self.rank if value != value else self.size, op=MPI.MIN)
        result = (math.nan, bad) if bad < self.size else \
            (self.comm.allreduce(value, op=MPI.MIN), None)
        self.comm_time += wallclock.perf_counter() - start
        return result

    def first_holding(self, value):
        """(rank, value) from the lowest rank whose ``value`` is not None, or (None, None)."""
        rank = self.comm.allreduce(self.rank if value is not None else self.size, op=MPI.MIN)
        if rank == self.size:
            return None, None
        return rank, self.comm.bcast(value, root=rank)

    def max_int(self, value):
        return self.comm.allreduce(int(value), op=MPI.MAX)

    def sum_int(self, value):
        return self.comm.allreduce(int(value), op=MPI.SUM)

    def exact_sums(self, arrays):
        """Correctly rounded global sum of each array (the same bits for any
        decomposition); NaN for an array that holds a value that is not finite
        on any rank."""
        start = wallclock.perf_counter()
        local = []
        for values in arrays:  # an iterable, used once
            values = np.asarray(values, dtype=np.float64)
            # non-overlapping doubles: at most one per bit of the exponent range
            partials = np.zeros(min(values.size + 1, 2100))
            # as a 3D view (no copy): two compiled variants, contiguous or not, for all
            count = _add_binned(values[(None,) * (3 - values.ndim)], partials, 0)
            local.append(partials[:count].tolist() if count >= 0 else None)
        gathered = self.comm.allgather(local)
        self.comm_time += wallclock.perf_counter() - start
        return np.array([math.nan if any(rank[v] is None for rank in gathered) else
                         math.fsum(p for rank in gathered for p in rank[v])
                         for v in range(len(local))])

    def in_turn(self, action):
        """Run ``action()`` on one rank after another in rank order (serial file access)."""
        for r in range(self.size):
            if r == self.rank:
                action()
            self.comm.Barrier()

    def rank0_first(self, action):
        """Run ``action()`` on rank 0, then on all others (rank 0 fills the numba cache).

        The others wait in a barrier that sleeps between tests: MPI's own barrier
        polls, and ranks spinning while rank 0 compiles for seconds would take
        the cores it compiles on wherever ranks outnumber cores."""
        if self.rank == 0:
            action()
        request = self.comm.Ibarrier()
        while not request.Test():
            wallclock.sleep(0.01)
        if self.rank != 0:
            action()

    def gather(self, value):
        return self.comm.gather(value, root=0)

    def bcast(self, value):
        return self.comm.bcast(value, root=0)
