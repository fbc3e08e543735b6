"""The phase-space system (``SYSTEM = "vlasov"``): f(z, v_z, t) of a stellar disk.

``system`` holds the system and its Strang-split stepper, ``sweep`` the
advection kernel (and the velocity filter), ``positivity`` the fix that keeps
f >= 0 after a step, ``equilibrium`` the potentials and distribution functions
a problem module builds its unperturbed disk from.
"""

from hydro.vlasov.equilibrium import (Equilibrium, Harmonic, Isothermal, Lowered, Potential, Slab,
                          Uniform, cell_average)

__all__ = ["Equilibrium", "Harmonic", "Isothermal", "Lowered", "Potential", "Slab",
           "Uniform", "cell_average"]
