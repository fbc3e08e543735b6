"""Ghost zones of the primitive variables: periodic, outflow, reflecting and user.

Ghosts are filled axis by axis over the full extent of the other axes
(ghosts included), so edge and corner ghosts come out right for any stencil.
Kinds:
- periodic: copy of the active cells at the opposite face (an exchange
  through the process grid, which wraps: ``hydro.core.parallel``);
- outflow: what the system says (Euler: zero gradient, a copy of the last active
  cell; the phase-space system: f = f0, delta f = 0);
- reflecting: mirror image, with what the system says a mirror reverses (Euler:
  the normal velocity) reversed;
- user: the problem module's ``boundary(w, block, axis, side, t, params, *args)``,
  ``args`` the system's ``hook_args`` (Euler: gamma), fills
  ``w[block.ghost(axis, side)]``; the system completes what hooks do not set.
"""

KINDS = ("periodic", "outflow", "reflecting", "user")
# GDF's boundary_conditions codes: 0 periodic, 1 mirror, 2 outflow (user: outflow)
GDF_CODES = {"periodic": 0, "reflecting": 1, "outflow": 2, "user": 2}


def _along(axis, index):
    """Index tuple for a [var, k, j, i] array picking ``index`` along spatial ``axis``."""
    return (slice(None),) * (3 - axis) + (index,)


def edge_layers(block, axis, side):
    """Index tuple of the active layers next to one face: what a neighbour's ghosts copy."""
    ng, n = block.ng[axis], block.nx[axis]
    return _along(axis, slice(ng, 2 * ng) if side == 0 else slice(n, n + ng))


def ghost_slice(block, axis, side):
    """Index tuple of the ghost layers of ``block`` on one side (0 low, 1 high) of an axis."""
    ng, n = block.ng[axis], block.nx[axis]
    return _along(axis, slice(0, ng) if side == 0 else slice(ng + n, n + 2 * ng))


def first_ghost_layer(block, axis, side):
    """Index tuple of the one ghost layer touching the active cells on one side."""
    ng, n = block.ng[axis], block.nx[axis]
    return _along(axis, ng - 1 if side == 0 else ng + n)


class Boundaries:
    """Fills the ghost zones of a block: from the neighbouring blocks through
    ``parallel`` (periodic faces included), and from the boundary kinds of the
    run at the faces of the domain.

    ``kinds[axis] = (lower, upper)``; ``user_hook`` is the problem's boundary
    function (or None), called with the problem's parameters and the system's
    ``hook_args``; ``system`` (``hydro.core.system``) knows what the variables of ``w``
    are, for mirrors and user hooks.
    """

    def __init__(self, kinds, ndim, parallel, user_hook=None, params=None, system=None):
        self.kinds = kinds
        self.ndim = ndim
        self.parallel = parallel
        self.user_hook = user_hook
        self.params = params
        self.system = system

    def exchange(self, field, block):
        """Ghosts of ``field`` from the neighbouring blocks only (domain faces untouched)."""
        for axis in range(self.ndim):
            self.parallel.exchange(field, block, axis)

    def fill(self, w, block, t):
        for axis in range(self.ndim):
            self.parallel.exchange(w, block, axis)
            for side in (0, 1):
                if not self.parallel.has_neighbour(axis, side):
                    self._fill_side(w, block, axis, side, t)

    def _fill_side(self, w, block, axis, side, t):
        kind = self.kinds[axis][side]
        ng, n = block.ng[axis], block.nx[axis]
        ghost = ghost_slice(block, axis, side)
        if kind == "outflow":
            edge = ng if side == 0 else ng + n - 1
            self.system.outflow(w, ghost, _along(axis, slice(edge, edge + 1)))
        elif kind == "reflecting":
            # ghost g mirrors active cell 2 ng - 1 - g (low side) or its image (high side)
            src = (slice(2 * ng - 1, ng - 1, -1) if side == 0
                   else slice(ng + n - 1, n - 1, -1))
            w[ghost] = w[_along(axis, src)]
            self.system.reflect(w, ghost, axis)
        else:
            self.user_hook(w, block, axis, side, t, self.params, *self.system.hook_args)
            self.system.complete_ghosts(w, ghost)
