"""Helpers shared by the tests: run a problem in-process from a parameter mapping."""

import copy
import logging

import numpy as np

from hydro.core import config
from hydro.core.driver import Simulation


def simulate(params, out_dir, restart=None):
    """Resolve ``params`` (a run-file mapping), run it with outputs in ``out_dir``,
    and return the finished Simulation."""
    params = copy.deepcopy(params)
    params.setdefault("output", {}).setdefault("dir", str(out_dir))
    params.setdefault("time", {}).setdefault("log_every", 10 ** 9)
    logging.getLogger("hydro").setLevel(logging.WARNING)
    cfg, module = config.resolve(params)
    sim = Simulation(cfg, module, restart=restart)
    sim.run(restarted=restart is not None)
    return sim


def primitive(sim, name):
    """A primitive field of the (single) block, active cells, shape (nz, ny, nx)."""
    s = sim.states[0]
    v = sim.system.primitive_names.index(name)
    return s.w[(v,) + s.block.active].copy()


def cell_centres(sim):
    """Active cell-centre coordinates (x, y, z), broadcastable to (nz, ny, nx)."""
    return sim.states[0].block.coordinates()


def l1(a, b):
    return float(np.mean(np.abs(a - b)))
