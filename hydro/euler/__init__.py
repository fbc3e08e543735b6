"""The Euler system: its variables, time step and flux update (``system``), the
Riemann solvers and the method-of-lines integrators."""
