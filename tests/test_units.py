"""Physical units: values with units in run files, code units in snapshots, temperature."""

import subprocess
import sys

import numpy as np
import pytest
import unyt
import yaml
import yt

from common import simulate
from hydro.core import config
from hydro.core.units import UnitSystem

PC_MSUN_KYR = {"length": "pc", "mass": "Msun", "time": "kyr"}


@pytest.mark.parametrize("text,unit,expected", [
    ("1e51 erg", "code_energy", unyt.unyt_quantity(1e51, "erg") / (
        unyt.unyt_quantity(1, "Msun") * unyt.unyt_quantity(1, "pc/kyr") ** 2)),
    ("1000 km/s", "code_length/code_time", unyt.unyt_quantity(1000, "km/s")
     / unyt.unyt_quantity(1, "pc/kyr")),
    ("8 kpc", "code_length", 8000.0),
    ("1e-3 Msun/yr", "code_mass/code_time", 1.0),
    ("3.0857e18 cm", "code_length", unyt.unyt_quantity(3.0857e18, "cm").to("pc")),
])
def test_values_with_units_convert_to_code_units(text, unit, expected):
    system = UnitSystem(**PC_MSUN_KYR)
    assert system.to_code(text, unit) == pytest.approx(float(expected), rel=1e-12)


def test_default_units_are_cgs():
    assert UnitSystem().to_code("2 km", "code_length") == pytest.approx(2e5, rel=1e-15)


@pytest.mark.parametrize("override,key", [
    ("time.tlim=3 pc", "time.tlim"),
    ("problem_params.energy=1 Msun", "problem_params.energy"),
    ("mesh.xmax=[5 s]", "mesh.xmax[0]"),
    ("units.length=parsecs", "units.length"),
])
def test_dimension_mismatch_is_a_config_error(override, key, tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"problem": "sedov", "mesh": {"nx": [16]},
                                    "units": PC_MSUN_KYR,
                                    "output": {"dir": str(tmp_path / "out")}}))
    result = subprocess.run([sys.executable, "-m", "hydro", "check", str(path), override],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and key in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_snapshots_declare_units_and_temperature(tmp_path):
    mu = 0.62
    sim = simulate({"problem": "sedov", "units": PC_MSUN_KYR,
                    "mesh": {"nx": [64], "xmin": ["-2 pc"], "xmax": ["2 pc"]},
                    "hydro": {"mu": mu}, "time": {"tlim": "300 yr"},
                    "problem_params": {"energy": "1e44 erg", "rho0": "1e-24 g/cm**3",
                                       "p0": "1e-12 dyn/cm**2", "radius": "0.2 pc"}},
                   tmp_path)
    ds = yt.load(sim.snapshots_written[-1])
    assert float(ds.current_time.to("yr")) == pytest.approx(300.0, rel=1e-12)
    assert float(ds.length_unit.to("pc")) == pytest.approx(1.0, rel=1e-12)
    assert float(ds.domain_right_edge[0].to("pc")) == pytest.approx(2.0, rel=1e-12)
    ad = ds.all_data()
    rho = ad["gas", "density"].to("g/cm**3")
    assert float(rho.max()) > 1e-24 and float(rho.min()) < 1e-24  # a shell and a cavity
    p = ad["gas", "pressure"].to("dyn/cm**2")
    expected = mu * unyt.physical_constants.mh * p / (rho * unyt.physical_constants.kb)
    np.testing.assert_allclose(ad["gas", "temperature"].to("K").d, expected.to("K").d,
                               rtol=1e-12)


def test_problem_defaults_may_carry_units(tmp_path):
    """A parameter declared with a default such as '1e51 erg' resolves to code units."""
    (tmp_path / "unitful.py").write_text(
        "from hydro.core.problem import Parameter\n"
        "PARAMETERS = [Parameter('e_sn', '1e51 erg', 'code_energy', 'explosion energy')]\n"
        "def initial_conditions(w, block, mesh, p, gamma):\n"
        "    w[0][block.active] = 1.0\n"
        "    w[4][block.active] = 1.0\n")
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"problem": "unitful.py", "mesh": {"nx": [8]},
                                    "units": PC_MSUN_KYR}))
    cfg, _ = config.load(str(path))
    assert cfg["problem_params"]["e_sn"] == pytest.approx(
        UnitSystem(**PC_MSUN_KYR).to_code("1e51 erg", "code_energy"), rel=1e-15)
