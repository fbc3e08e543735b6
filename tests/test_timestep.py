"""The CFL time step of the conversion to primitives: the minimum over the cells and
active axes of dx_a / (|v_a| + c_s), computed as dx_a over each axis's fastest signal,
must be that minimum to the last bit; a NaN or inf state gives NaN."""

import numpy as np
import pytest

from hydro.euler.system import Euler
from hydro.core.mesh import Block

GAMMA = 5.0 / 3.0


def _state(ndim, seed):
    """A random state on a block with unequal cell widths, and its primitives' slots."""
    n = tuple(6 if a < ndim else 1 for a in range(3))
    ng = tuple(3 if a < ndim else 0 for a in range(3))
    block = Block((0, 0, 0), n, ng, (0.7, 1.3, 0.9), (0.0, 0.0, 0.0))
    system = Euler(GAMMA, "plm", "mc", "hllc")
    rng = np.random.default_rng(seed)
    w = system.allocate(block)
    w[0] = rng.uniform(0.1, 10.0, block.shape)
    w[1:4] = rng.normal(0.0, 3.0, (3,) + block.shape)
    w[4] = rng.uniform(0.01, 5.0, block.shape)
    u = system.allocate(block)
    system.conserved(w, u, block)
    return system, block, u, system.allocate(block)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_time_step_is_the_exact_minimum_over_cells_and_axes(ndim):
    for seed in range(5):
        system, block, u, w = _state(ndim, seed)
        dt = system.primitives(u, w, block, ndim)
        a = (slice(None),) + block.active
        active = w[a]
        cs = np.sqrt(GAMMA * active[4] / active[0])
        expected = min((block.dx[axis] / (np.abs(active[1 + axis]) + cs)).min()
                       for axis in range(ndim))
        assert dt == expected


def test_non_finite_state_gives_nan():
    for bad in (np.nan, np.inf):
        system, block, u, w = _state(3, 0)
        u[(1,) + tuple(s.start + 2 for s in block.active)] = bad
        assert np.isnan(system.primitives(u, w, block, 3))
