"""hydro: a grid-based, MPI-parallel Godunov finite-volume simulation driver."""

__version__ = "0.1.0"
