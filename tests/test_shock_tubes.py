"""Shock tubes against the exact Riemann solution (Toro 2009, Tables 4.1 and 4.2)."""

import numpy as np
import pytest

import reference_muscl
from common import cell_centres, l1, primitive, simulate
from hydro.riemann import exact_solution, exact_state

GAMMA = 1.4
# Toro Table 4.1: (rho, u, p) left, right, output time; x0 = 0.5
TORO = {
    1: ((1.0, 0.0, 1.0), (0.125, 0.0, 0.1), 0.25),
    2: ((1.0, -2.0, 0.4), (1.0, 2.0, 0.4), 0.15),
    3: ((1.0, 0.0, 1000.0), (1.0, 0.0, 0.01), 0.012),
    4: ((1.0, 0.0, 0.01), (1.0, 0.0, 100.0), 0.035),
    5: ((5.99924, 19.5975, 460.894), (5.99242, -6.19633, 46.0950), 0.035),
}
# Toro Table 4.2: p*, u*, rho*_L, rho*_R
STAR = {
    1: (0.30313, 0.92745, 0.42632, 0.26557),
    2: (0.00189, 0.0, 0.02185, 0.02185),
    3: (460.894, 19.5975, 0.57506, 5.99924),
    4: (46.0950, -6.19633, 5.99242, 0.57511),
    5: (1691.64, 8.68975, 14.2823, 31.0426),
}


@pytest.mark.parametrize("test", sorted(STAR))
def test_exact_solver_star_region(test):
    left, right, _ = TORO[test]
    p_star, u_star, rho_l, rho_r = STAR[test]
    eps = 1e-3 * max(1.0, abs(u_star))  # inside the star region on each side
    for xi, rho in ((u_star - eps, rho_l), (u_star + eps, rho_r)):
        r, v, p, _ = exact_state(*left, *right, GAMMA, xi)
        assert p == pytest.approx(p_star, rel=2e-4, abs=1e-5)
        assert v == pytest.approx(u_star, rel=2e-4, abs=1e-5)
        assert r == pytest.approx(rho, rel=2e-4)


def run_tube(test, n, tmp_path, direction="x", **hydro):
    left, right, tlim = TORO[test]
    ndim = "xyz".index(direction) + 1
    nx = [4] * (ndim - 1) + [n]
    params = {
        "problem": "sod",
        "mesh": {"nx": nx, "boundary": ["outflow"] * ndim},
        "hydro": {"gamma": GAMMA, "cfl": 0.4, **hydro},
        "time": {"tlim": tlim},
        "output": {"snapshots": False},
        "problem_params": dict(zip(("rho_l", "u_l", "p_l"), left))
        | dict(zip(("rho_r", "u_r", "p_r"), right)) | {"direction": direction},
    }
    sim = simulate(params, tmp_path)
    x = cell_centres(sim)["xyz".index(direction)].ravel()
    rho = primitive(sim, "density")
    # the profile along the direction (the other axes are uniform)
    rho = rho.reshape(-1, n) if direction == "x" else np.moveaxis(
        rho, 2 - "xyz".index(direction), -1).reshape(-1, n)
    return x, rho, exact_solution(left, right, GAMMA, x, tlim)[0]


@pytest.mark.parametrize("test", sorted(TORO))
def test_toro_plm_hllc_matches_muscl_hancock(test, tmp_path):
    """L1 density error at 400 cells within 2x of an independent MUSCL-Hancock-HLLC
    and decreasing with resolution."""
    left, right, tlim = TORO[test]
    errors = []
    for n in (100, 200, 400):
        x, rho, exact = run_tube(test, n, tmp_path, riemann="hllc", reconstruction="plm")
        errors.append(l1(rho[0], exact))
    reference = l1(reference_muscl.solve(left, right, GAMMA, 400, tlim),
                   exact_solution(left, right, GAMMA, x, tlim)[0])
    assert errors[2] <= 2.0 * reference, (errors, reference)
    assert errors[0] > errors[1] > errors[2], errors


@pytest.mark.parametrize("direction", ["y", "z"])
def test_sod_along_y_and_z(direction, tmp_path):
    """The same tube along y (2D) and z (3D): uniform across the other axes and as
    accurate as along x."""
    x, rho_x, exact = run_tube(1, 400, tmp_path, "x")
    _, rho_d, _ = run_tube(1, 400, tmp_path, direction)
    assert np.abs(rho_d - rho_d[0]).max() == 0.0  # every pencil identical
    assert np.abs(rho_d[0] - rho_x[0]).max() < 1e-12
    assert l1(rho_d[0], exact) <= 1.01 * l1(rho_x[0], exact)


@pytest.mark.parametrize("solver", ["llf", "hlle", "hllc", "exact"])
@pytest.mark.parametrize("reconstruction", ["pcm", "plm", "ppm"])
def test_sod_every_solver_and_reconstruction(solver, reconstruction, tmp_path):
    """Sod converges for every scheme and stays within 2x of the reference scheme of
    the same order (MUSCL-Hancock for PLM/PPM, first-order Godunov for PCM)."""
    left, right, tlim = TORO[1]
    errors = [l1(rho[0], exact) for _, rho, exact in
              (run_tube(1, n, tmp_path, riemann=solver, reconstruction=reconstruction)
               for n in (200, 400))]
    order = 1 if reconstruction == "pcm" else 2
    reference = l1(reference_muscl.solve(left, right, GAMMA, 400, tlim, order=order),
                   exact_solution(left, right, GAMMA, (np.arange(400) + 0.5) / 400, tlim)[0])
    assert errors[1] < 0.8 * errors[0], errors
    assert errors[1] <= 2.0 * reference, (errors, reference)


@pytest.mark.parametrize("integrator", ["rk2", "rk3"])
def test_sod_runge_kutta(integrator, tmp_path):
    left, right, tlim = TORO[1]
    _, rho, exact = run_tube(1, 400, tmp_path, integrator=integrator)
    reference = l1(reference_muscl.solve(left, right, GAMMA, 400, tlim), exact)
    assert l1(rho[0], exact) <= 2.0 * reference
