"""Time integrators in Shu-Osher form: each stage is

    u <- g0 u0 + g1 u + beta dt L(u),

with u0 the state at the start of the cycle, so every scheme needs the same
two state arrays and one primitive array.  (g0, g1, beta, c, first_order)
per stage, c placing the stage in time (t + c dt) for boundaries and sources.

A stage is: primitives and ghosts -> weights -> the system's update (the flux
divergence) -> the system's ``after_update`` (Euler: first-order flux
correction of cells left below the floors) -> unsplit sources.  Any
method-of-lines system serves (``hydro.core.system``: ``primitives``, ``update``,
``after_update``); a system with another kind of step (split sweeps) builds its
own integrator.  The flux kernel scatters
into the first ghost layer of u too, and the stage weights (which sum to one)
act on it like on the active cells, so it adds up the time-integrated flux
through each block face until the driver reads and clears it (``outflow``).

- vl2: the predictor-corrector of Stone & Gardiner 2009 (New Astron. 14, 139),
  a first-order half step then the full step at the reconstruction's order.
- rk2: SSP-RK2 (Heun), Shu & Osher 1988 (J. Comput. Phys. 77, 439), eq. 2.15.
- rk3: SSP-RK3, Shu & Osher 1988, eq. 2.18.
"""

import numpy as np

from hydro.core import threads
from hydro.euler.system import combine

STAGES = {
    "vl2": ((0.0, 1.0, 0.5, 0.0, True), (1.0, 0.0, 1.0, 0.5, False)),
    "rk2": ((0.0, 1.0, 1.0, 0.0, False), (0.5, 0.5, 0.5, 1.0, False)),
    "rk3": ((0.0, 1.0, 1.0, 0.0, False), (0.75, 0.25, 0.25, 1.0, False),
            (1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 0.5, False)),
}


class Integrator:
    """Advances a block's state by one cycle of the chosen scheme."""

    def __init__(self, name, system, boundaries, sources, ndim):
        self.stages = STAGES[name]
        self.system = system
        self.boundaries = boundaries
        self.unsplit = [s for s in sources if not s.operator_split]
        self.split = [s for s in sources if s.operator_split]
        self.ndim = ndim
        self.needs_mass_flux = any(s.uses_mass_flux for s in sources)
        self.combines = any(self._start(n) == "combine" for n in range(len(self.stages)))

    def _start(self, n):
        """How stage n starts: from u as it is (g0 = 0, g1 = 1: None); from u0 itself,
        updated in place and swapped with u ("swap": g0 = 1, g1 = 0 in the last stage,
        VL2); or from u = g0 u0 + g1 u ("combine")."""
        g0, g1 = self.stages[n][:2]
        if (g0, g1) == (0.0, 1.0):
            return None
        return "swap" if n == len(self.stages) - 1 and (g0, g1) == (1.0, 0.0) else "combine"

    def advance(self, state, t, dt):
        """One cycle from t to t + dt.  On entry ``state.w`` holds the primitives of
        ``state.u`` with ghosts filled (they gave dt); on exit u is the new state."""
        u, u0, w, block = state.u, state.u0, state.w, state.block
        system = self.system
        np.copyto(u0, u)
        if self.needs_mass_flux and state.mass_flux is None:
            state.mass_flux = np.zeros((3,) + block.shape)
        for n, (g0, g1, beta, c, first_order) in enumerate(self.stages):
            t_stage = t + c * dt
            if n > 0:
                system.primitives(u, w, block)
                self.boundaries.fill(w, block, t_stage)
            start = self._start(n)
            if start == "swap":  # u = u0 + beta dt L: update u0 itself instead of a copy
                u, u0 = u0, u
                state.u, state.u0 = u, u0
            elif start == "combine":
                threads.run(combine, u, u0, block.bounds, g0, g1)
            system.update(w, u, block, self.ndim, beta * dt, first_order, state.mass_flux)
            system.after_update(state, self.ndim, beta * dt, first_order, self.boundaries)
            for source in self.unsplit:
                source.apply(w, u, block, t_stage, beta * dt, state.mass_flux)
        for source in self.split:
            source.apply(w, u, block, t, dt, None)
