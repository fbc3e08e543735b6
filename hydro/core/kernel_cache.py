"""Keep numba's on-disk kernel cache in step with every hydro module compiled in.

Why: numba decides whether a cached kernel is still valid from the source
file that defines it alone (its "source stamp").  Our kernels are built from
many files: the flux kernel is defined in ``euler/system.py`` but the Riemann
solvers (``euler/riemann.py``), the reconstructions (``core/reconstruct.py``)
and the thread helpers (``core/threads.py``) are ``inline="always"`` functions
compiled into it, and numba also freezes module-level constants into the
machine code.  So after an edit to ``riemann.py`` (in an editable install, or a
user's own change) numba kept loading the old flux kernel, and every run and
test silently used the old code.

What: for every cached function of the hydro package (``hydro``, including
``hydro.problems``) the stamp becomes numba's own stamp of the defining file
plus one digest over the contents of every module of the package (its
folder and subfolders) that imports numba (those are the modules kernels can
be compiled from) plus the numba version.  An edit to any of them makes every
hydro kernel compile again, once; an edit to a module without numba
(``cli.py``, ``config.py``) costs no compilation.

How: numba picks a "cache locator" per cached function from the list
``CacheImpl._locator_classes``, asking each in turn.  ``install`` puts in
front of that list a subclass of each of numba's three file-backed locators
(the ``NUMBA_CACHE_DIR`` one, the in-tree ``__pycache__`` one and the
user-wide fallback for a read-only tree) which accepts only hydro's functions
and changes only the stamp: the cache stays where numba would put it, a
function of any other package keeps numba's usual locator, and every MPI rank,
reading the same files, computes the same stamp (rank 0 compiles and writes,
the others load, as before).  The digest is over file contents, not times, so
a copied or reinstalled tree with the same sources still finds its cache.

``hydro/__init__.py`` calls ``install`` so that it runs before any hydro
module's ``@numba.njit(cache=True)`` decorator executes (numba chooses the
locator, and computes the stamp, when the decorator runs).  The digest is
computed once per process, at the first hydro kernel decorated: a listing of
the package's folders and the reading of their few dozen small files, about a
millisecond.

Limits: ``NUMBA_CACHE_LOCATOR_CLASSES``, if set, replaces numba's list and
this one with it; a hydro installed inside a zip archive keeps numba's
stamp; a kernel that reads a global from a module that does not import numba
is not keyed on that module (none does today: keep kernel constants in the
kernel modules).
"""

import functools
import hashlib
import os
import re

import numba
from numba.core import caching

_PACKAGE = __name__.partition(".")[0]
_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package
# a line importing numba: what makes a module one that kernels can be compiled from
_USES_NUMBA = re.compile(rb"^\s*(?:import|from)\s+numba\b", re.MULTILINE)


@functools.cache
def package_stamp():
    """Digest of every module of the package folder that imports numba, with the
    numba version: the part of every hydro kernel's stamp that its own file's
    stamp misses."""
    digest = hashlib.sha256(numba.__version__.encode())
    for folder, subfolders, names in os.walk(_FOLDER):  # top-down, in name order
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(n for n in names if n.endswith(".py")):
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                source = f.read()
            if _USES_NUMBA.search(source):
                digest.update(os.path.relpath(path, _FOLDER).encode() + b"\0"
                              + hashlib.sha256(source).digest())
    return digest.hexdigest()


def _numba_class(name):
    """numba's caching class ``name`` (older numba versions, such as 0.59, named
    these classes with a leading underscore)."""
    return getattr(caching, name, None) or getattr(caching, "_" + name)


class _PackageStamped:
    """Mixin for numba's file-backed locators: the same cache folder and file
    names, a stamp that also covers the package's other numba modules; only for
    functions of this package."""

    def get_source_stamp(self):
        return super().get_source_stamp(), package_stamp()

    @classmethod
    def from_function(cls, py_func, py_file):
        module = getattr(py_func, "__module__", None) or ""
        if module.partition(".")[0] != _PACKAGE:
            return None
        return super().from_function(py_func, py_file)


class UserProvidedLocator(_PackageStamped, _numba_class("UserProvidedCacheLocator")):
    """NUMBA_CACHE_DIR, when set."""


class InTreeLocator(_PackageStamped, _numba_class("InTreeCacheLocator")):
    """``__pycache__`` beside the module, when writable."""


class UserWideLocator(_PackageStamped, _numba_class("UserWideCacheLocator")):
    """The user-wide cache folder, for a tree that is not writable."""


LOCATORS = (UserProvidedLocator, InTreeLocator, UserWideLocator)


def install():
    """Put hydro's locators in front of numba's, in numba's order (idempotent)."""
    classes = _numba_class("CacheImpl")._locator_classes
    # by name, so that a second copy of this module (a reload) replaces, not adds
    names = {cls.__qualname__ for cls in LOCATORS}
    classes[:] = [cls for cls in classes
                  if not (cls.__module__ == __name__ and cls.__qualname__ in names)]
    # in place: the list object is shared by numba's CacheImpl subclasses
    classes[:0] = LOCATORS
