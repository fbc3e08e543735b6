"""Threads inside a rank.

Every kernel that loops over the cells of a block takes two last arguments,
``part`` and ``parts``, and does only its share of the rows (or tiles of
pencils) of the block (``share``).  ``run`` calls a kernel for all the parts
at once, one per thread, ``numba.get_num_threads()`` of them (set from
``NUMBA_NUM_THREADS``, see ``parallel``): the kernels are compiled with
``nogil=True``, so Python threads run them side by side.  Each cell's
arithmetic is its own, so the bits do not depend on the number of threads;
what a kernel returns (counts, minima) comes back per part, in order, for the
caller to combine.

Why not numba's ``parallel=True`` and ``prange``: numba optimises and
generates the machine code of a parallel kernel three times over (the kernel's
own, its loop body's, and the body again linked into the kernel), which made
the flux kernels take twice as long to compile (15 s against 8 s each), and
its OpenMP threads keep spinning for a while after each parallel loop, taking
the core that the next kernel's threads need.
"""

from concurrent.futures import ThreadPoolExecutor

import numba

_pool = None
_pool_size = 0


@numba.njit(inline="always")
def share(n, part, parts):
    """The rows [first, last) of part ``part`` of ``parts`` when n rows are shared out:
    contiguous, and as equal as can be."""
    return part * n // parts, (part + 1) * n // parts


def run(kernel, *args):
    """[kernel(*args, part, parts) for part in range(parts)], the parts at once on
    ``parts`` threads (this one and parts - 1 from a pool kept for the process)."""
    global _pool, _pool_size
    parts = numba.get_num_threads()
    if parts == 1:
        return [kernel(*args, 0, 1)]
    if _pool_size != parts - 1:
        if _pool is not None:
            _pool.shutdown()
        _pool, _pool_size = ThreadPoolExecutor(parts - 1, "hydro-thread"), parts - 1
    others = [_pool.submit(kernel, *args, part, parts) for part in range(1, parts)]
    return [kernel(*args, 0, parts)] + [future.result() for future in others]
