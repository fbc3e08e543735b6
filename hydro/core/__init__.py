"""What every system shares: configuration and units, the mesh and its blocks,
parallelism (process grid, halo exchange, exact reductions, threads), boundaries,
the system interface and registry, problem modules, the driver, signals, the
kernel cache, and the reconstructions (PCM, PLM, PPM) both systems use."""
