"""hydro: a grid-based, MPI-parallel Godunov finite-volume simulation driver.

The problem modules and the analysis tools are ``hydro.problems`` and
``hydro.analysis``.  Installed, they sit inside this package; in a source
checkout they are the folders ``problems/`` and ``analysis/`` beside it, which
the line below makes importable under the same names.
"""

import os as _os

__version__ = "0.1.0"

_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(__path__[0], "problems")) and \
        _os.path.isfile(_os.path.join(_checkout, "problems", "__init__.py")):
    __path__.append(_checkout)

# before any hydro module's @numba.njit(cache=True) runs: key the kernel cache on
# every module compiled into a kernel, not only the defining file (see there)
from hydro.core import kernel_cache as _kernel_cache  # noqa: E402

_kernel_cache.install()
