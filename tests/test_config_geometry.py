"""Spherical geometry is 1D only: the run file is refused before anything runs.

Spherical symmetry (mesh.geometry: spherical) takes x as the radius, with the
geometric source terms of a 1D radial grid; on a 2D or 3D grid the same flags
would silently give a wrong Cartesian-radial hybrid.  The configuration must
refuse it, and the other spherical cross-checks, naming the key.
"""

import subprocess
import sys

import pytest
import yaml

from hydro.core import config


def sod(ndim, **mesh):
    return {"problem": "sod",
            "mesh": {"nx": [16] * ndim, "geometry": "spherical", **mesh},
            "time": {"tlim": 0.01}, "output": {"snapshots": False}}


@pytest.mark.parametrize("ndim", [2, 3])
def test_spherical_grid_beyond_1d_is_refused(ndim):
    with pytest.raises(config.ConfigError, match=r"^mesh\.geometry: "):
        config.resolve(sod(ndim))


@pytest.mark.parametrize("mesh, key", [
    ({"xmin": [-1.0], "xmax": [1.0]}, "mesh.xmin"),   # a negative radius
    ({"boundary": ["periodic"]}, "mesh.boundary"),    # periodic in r
])
def test_other_spherical_cross_checks(mesh, key):
    with pytest.raises(config.ConfigError, match=rf"^{key}: "):
        config.resolve(sod(1, **mesh))


def test_spherical_1d_is_accepted():
    cfg, _ = config.resolve(sod(1, boundary=[["reflecting", "outflow"]]))
    assert cfg["mesh"]["geometry"] == "spherical"


@pytest.mark.parametrize("command", ["check", "run"])
def test_command_line_exits_2_naming_the_key(command, tmp_path):
    """`hydro check` and `hydro run` on a 2D spherical run file: exit status 2, one
    line on stderr naming mesh.geometry, nothing written."""
    params = sod(2)
    params["output"]["dir"] = str(tmp_path / "out")
    path = tmp_path / "spherical_2d.yaml"
    path.write_text(yaml.safe_dump(params))
    out = subprocess.run([sys.executable, "-m", "hydro", command, str(path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "mesh.geometry" in lines[0], out.stderr
    assert not (tmp_path / "out").exists()
