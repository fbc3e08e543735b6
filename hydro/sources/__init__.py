"""Source terms: the one way physics beyond the flux divergence enters an update.

A source term is an object with

    operator_split: bool
    uses_mass_flux: bool
    def apply(self, w, u, block, t, dt, mass_flux): ...   # add dt * S to u (active cells)

Unsplit sources (``operator_split = False``) are called at every integrator
stage after the flux divergence, with that stage's primitives ``w``, time
``t`` and weighted step ``dt`` (stage weight x time step), so they are
integrated to the integrator's order.  Operator-split sources are called once
per cycle after the last stage, with the full step; ``w`` is then stale and
they must work from ``u``.  ``mass_flux`` holds, for a source that sets
``uses_mass_flux``, the stage's dt F_rho on the faces of each axis (3 arrays,
entry [k, j, i] for the face on the low side of cell (k, j, i)); it is None
otherwise and for operator-split sources.  A source that adds or removes a
conserved quantity names it in ``budget_names`` and reports it from
``budget`` so that the history closes the budget; one that sets a speed of
its own (a wind) bounds the step in ``timestep``.  Problems return their sources from
``source_terms(p)``; the integrator needs no change when one is added.
"""


import math


class SourceTerm:
    """Base class documenting the interface; subclasses override ``apply``."""

    operator_split = False
    uses_mass_flux = False
    budget_names = ()  # history columns: what the source added or removed since t = 0

    def timestep(self, w, block, gamma):
        """The longest step (at Courant number 1) this source allows on the block."""
        return math.inf

    def budget(self, block, dt):
        """{name: amount} this source added in the last cycle (of length dt): a
        per-cell array (per unit volume, the driver integrates it) or a number
        that every rank knows alike."""
        return {}

    def apply(self, w, u, block, t, dt, mass_flux):
        raise NotImplementedError

    def warm_up(self):
        """Compile (or load from the cache) this source's kernels on a few cells; the
        driver calls it on rank 0 before the other ranks (no races on the cache)."""
