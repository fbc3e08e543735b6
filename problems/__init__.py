"""Problem modules: parameters, initial conditions and optional hooks (see hydro.core.problem)."""
