"""Source terms: the one way physics beyond the flux divergence enters an update.

A source term is an object with

    operator_split: bool
    def apply(self, w, u, block, t, dt): ...   # add dt * S to u on the active cells

Unsplit sources (``operator_split = False``) are called at every integrator
stage after the flux divergence, with that stage's primitives ``w``, time
``t`` and weighted step ``dt`` (stage weight x time step), so they are
integrated to the integrator's order.  Operator-split sources are called once
per cycle after the last stage, with the full step; ``w`` is then stale and
they must work from ``u``.  Problems return their sources from
``source_terms(p)``; the integrator needs no change when one is added.
"""


class SourceTerm:
    """Base class documenting the interface; subclasses override ``apply``."""

    operator_split = False

    def apply(self, w, u, block, t, dt):
        raise NotImplementedError
