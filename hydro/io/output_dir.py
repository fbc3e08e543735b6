"""The run's output directory and the snapshot it restarts from, checked before
anything compiles or is written.

A run never mixes with another run's files: a directory that already holds
snapshots or a history under the run's basename is refused unless the user
asks to overwrite them (``--overwrite``, ``output.overwrite: true``) or
restarts from one of them.  A restart keeps the files up to its snapshot and
renames the later ones (``*.h5.superseded``), so that ``yt`` and the run's own
numbering see one consistent sequence; the history is cut at the restart
time when the run opens it (``history.History``).

Everything here raises ``ConfigError`` (exit status 2, one line); only rank 0
touches the file system, and the command line shares its verdict.
"""

import os
import re
import tempfile

import yaml

from hydro.core.config import ConfigError

SUPERSEDED = ".superseded"


def _files(directory, basename):
    """{snapshot index: name} and the history name, of the run files in ``directory``."""
    pattern = re.compile(re.escape(basename) + r"\.(\d{5,})\.h5$")
    snapshots, history = {}, None
    for name in sorted(os.listdir(directory)):
        match = pattern.match(name)
        if match:
            snapshots[int(match.group(1))] = name
        elif name == f"{basename}.hst":
            history = name
    return snapshots, history


def _listing(names):
    shown = names if len(names) <= 4 else names[:2] + ["..."] + names[-1:]
    return ", ".join(shown)


def check_restart(path, cfg):
    """The header of snapshot ``path`` if the run ``cfg`` can continue from it."""
    from hydro.io import gdf  # h5py: only for a restart

    if not os.path.isfile(path):
        raise ConfigError(f"--restart: no such file '{path}'")
    try:
        header = gdf.read_header(path)
        stored = yaml.safe_load(header["params_yaml"])
        time, cycle = float(header["time"]), int(header["cycle"])
        int(header["output_index"])
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as e:
        reason = str(e).removeprefix(f"{path}: ").removeprefix("not a hydro snapshot ")
        raise ConfigError(f"--restart: '{path}' is not a hydro snapshot "
                          f"{reason or type(e).__name__}") from None
    if stored.get("problem") != cfg["problem"]:
        raise ConfigError(f"--restart: '{path}' was written by problem "
                          f"'{stored.get('problem')}', the run is '{cfg['problem']}'")
    mesh = stored.get("mesh", {})
    for key in ("nx", "xmin", "xmax", "geometry"):
        if mesh.get(key) != cfg["mesh"][key]:
            raise ConfigError(f"--restart: '{path}' has mesh.{key} = {mesh.get(key)}, the "
                              f"run has {cfg['mesh'][key]}")
    tlim, nlim = cfg["time"]["tlim"], cfg["time"]["nlim"]
    if time >= tlim * (1.0 - 1e-12):
        raise ConfigError(f"--restart: '{path}' is at t = {time:.6e}, at or past time.tlim = "
                          f"{tlim:.6e}: nothing to run (raise time.tlim to continue)")
    if 0 <= nlim <= cycle:
        raise ConfigError(f"--restart: '{path}' is at cycle {cycle}, at or past time.nlim = "
                          f"{nlim}: nothing to run")
    return header


def prepare(cfg, restart_header=None, overwrite=False):
    """Create the output directory, check that it can be written, and clear the way
    for this run; returns the lines to log about what was removed or renamed."""
    out = cfg["output"]
    directory, basename = out["dir"], out["basename"]
    overwrite = overwrite or out["overwrite"]
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".hydro-write-test-"):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ConfigError(f"output.dir: cannot write to '{directory}' ({reason})") from None
    snapshots, history = _files(directory, basename)
    keep = -1 if restart_header is None else int(restart_header["output_index"])
    later = [name for index, name in sorted(snapshots.items()) if index > keep]
    if restart_header is None and history is not None:
        later.append(history)
    if not later:
        return []
    if not overwrite and restart_header is None:
        raise ConfigError(f"output.dir: '{directory}' already holds the files of another run "
                          f"({_listing(later)}); use --overwrite or output.overwrite: true, "
                          f"another output.dir or output.basename, or --restart")
    for name in later:
        path = os.path.join(directory, name)
        if overwrite:
            os.remove(path)
        else:
            os.replace(path, path + SUPERSEDED)
    if overwrite:
        return [f"removed {len(later)} file(s) of an earlier run from {directory}: "
                f"{_listing(later)}"]
    return [f"renamed {len(later)} snapshot(s) after the restart time to *.h5{SUPERSEDED}: "
            f"{_listing(later)}"]


def restart_hint(path, time):
    """How the messages of a stopped run name the snapshot to continue from."""
    if path is None:
        return "no snapshot was written"
    return f"the last complete snapshot is {path} (t = {time:.6e}): continue with " \
           f"--restart {path}"
