"""Threads inside a rank (hydro.core.threads): how rows are shared out, and that every
part runs once with its results in part order.  (That threaded runs give the
same bits as one thread: test_mpi.)"""

import numba
import numpy as np
import pytest

from hydro.core import threads


@numba.njit(nogil=True)
def _mark_rows(rows, part, parts):
    first, last = threads.share(rows.size, part, parts)
    for r in range(first, last):
        rows[r] += 1 + part
    return part, last - first


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 64, 129])
@pytest.mark.parametrize("parts", [1, 2, 3, 5, 8])
def test_share_cuts_rows_into_contiguous_near_equal_parts(n, parts):
    cuts = [threads.share.py_func(n, p, parts) for p in range(parts)]
    assert cuts[0][0] == 0 and cuts[-1][1] == n
    assert all(cuts[p][1] == cuts[p + 1][0] for p in range(parts - 1))
    sizes = [last - first for first, last in cuts]
    assert min(sizes) >= 0 and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("threads_used", [1, 2])
def test_run_does_every_part_once_in_order(threads_used):
    if threads_used > numba.config.NUMBA_NUM_THREADS:
        pytest.skip(f"numba allows {numba.config.NUMBA_NUM_THREADS} thread(s) here")
    previous = numba.get_num_threads()
    numba.set_num_threads(threads_used)
    try:
        rows = np.zeros(101)
        results = threads.run(_mark_rows, rows)
    finally:
        numba.set_num_threads(previous)
    assert [part for part, _ in results] == list(range(threads_used))
    assert sum(count for _, count in results) == rows.size
    # each row was done by exactly one part, the parts in row order
    assert np.all(np.diff(rows) >= 0) and set(rows) == set(range(1, threads_used + 1))
