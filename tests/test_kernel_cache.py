"""The compiled-kernel cache follows edits to every module compiled into a kernel.

numba keys a cached kernel on the file that defines it only; the flux kernel
(defined in euler/system.py) inlines the Riemann solvers of euler/riemann.py, so without
``hydro.core.kernel_cache`` an edit to riemann.py was ignored by every later run.
The runs here are separate processes on a copy of the package (the edit never
touches the real tree), with their own numba cache folder.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import hydro

# A tiny Sod tube with HLLC; prints the package it ran and a digest of the state.
SCRIPT = textwrap.dedent("""
    import hashlib, logging, sys
    import hydro
    from hydro.core import config
    from hydro.core.driver import Simulation

    logging.getLogger("hydro").setLevel(logging.WARNING)
    cfg, module = config.resolve({
        "problem": "sod",
        "mesh": {"nx": [16], "boundary": ["outflow"]},
        "hydro": {"riemann": "hllc", "reconstruction": "pcm"},
        "time": {"tlim": 1.0, "nlim": 2, "log_every": 10 ** 9},
        "output": {"snapshots": False, "dir": sys.argv[1]},
    })
    sim = Simulation(cfg, module)
    sim.run()
    state = sim.states[0]
    print("PACKAGE", hydro.__file__)
    print("RESULT", hashlib.sha256(state.u[(slice(None),) + state.block.active].tobytes())
          .hexdigest())
""")


def _copy_package(dest):
    """The package, with problems/ and analysis/ where a source checkout keeps them
    (beside it; an installed package holds them inside)."""
    package = Path(hydro.__file__).resolve().parent
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(package, dest / "hydro", ignore=skip)
    for name in ("problems", "analysis"):
        beside = package.parent / name
        if not (package / name).is_dir() and (beside / "__init__.py").is_file():
            shutil.copytree(beside, dest / name, ignore=skip)


def _run(tmp_path):
    """Run SCRIPT on the copy: (digest of the state, whether the flux kernel was
    loaded from the cache rather than compiled)."""
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "src"),
               NUMBA_CACHE_DIR=str(tmp_path / "cache"), NUMBA_DEBUG_CACHE="1",
               NUMBA_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "out")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    package = next(line.split(" ", 1)[1] for line in lines if line.startswith("PACKAGE "))
    assert Path(package).resolve().is_relative_to((tmp_path / "src").resolve()), package
    loaded = any(line.startswith("[cache] data loaded") and "add_flux_divergence" in line
                 for line in lines)
    return next(line.split()[1] for line in lines if line.startswith("RESULT ")), loaded


def test_an_edit_to_an_inlined_module_recompiles_the_flux_kernel(tmp_path):
    _copy_package(tmp_path / "src")
    (tmp_path / "run.py").write_text(SCRIPT)
    riemann = tmp_path / "src" / "hydro" / "euler" / "riemann.py"
    original = riemann.read_text()

    first, loaded = _run(tmp_path)
    assert not loaded  # an empty cache: compiled (and saved)

    # HLLC becomes LLF: euler/system.py, which defines the kernel, is unchanged
    riemann.write_text(original + "\nhllc = llf  # an edit the flux kernel must see\n")
    edited, loaded = _run(tmp_path)
    assert not loaded
    assert edited != first

    # the edit undone: the original bits again, then from the cache
    riemann.write_text(original)
    assert _run(tmp_path) == (first, False)
    assert _run(tmp_path) == (first, True)
