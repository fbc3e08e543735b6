"""Shock tubes against the exact Riemann solution (Toro 2009, Tables 4.1 and 4.2).

The reference profiles come from ``exact_riemann`` (an exact solver written in
the tests from Toro ch. 4), never from ``hydro.euler.riemann``: a mistake in the code
under test must not be able to move its own yardstick.  Both exact solvers are
checked against Toro's published star states, and against each other on whole
profiles (rarefaction fans and shock positions, which the table does not cover).
"""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import exact_riemann
import reference_muscl
from common import cell_centres, l1, primitive, simulate
from hydro.euler.riemann import exact_solution, exact_state

GAMMA = 1.4
# Toro Table 4.1: (rho, u, p) left, right, output time; x0 = 0.5
TORO = {
    1: ((1.0, 0.0, 1.0), (0.125, 0.0, 0.1), 0.25),
    2: ((1.0, -2.0, 0.4), (1.0, 2.0, 0.4), 0.15),
    3: ((1.0, 0.0, 1000.0), (1.0, 0.0, 0.01), 0.012),
    4: ((1.0, 0.0, 0.01), (1.0, 0.0, 100.0), 0.035),
    5: ((5.99924, 19.5975, 460.894), (5.99242, -6.19633, 46.0950), 0.035),
}
# Toro Table 4.2: p*, u*, rho*_L, rho*_R, as printed (the digits are the reference)
STAR = {
    1: ("0.30313", "0.92745", "0.42632", "0.26557"),
    2: ("0.00189", "0.00000", "0.02185", "0.02185"),
    3: ("460.894", "19.5975", "0.57506", "5.99924"),
    4: ("46.0950", "-6.19633", "5.99242", "0.57511"),
    5: ("1691.64", "8.68975", "14.2823", "31.0426"),
}


def table_inputs(test):
    """The left and right states behind Table 4.2.  Test 5 collides the shocks of
    Tests 3 and 4: its states are the star states of those two (left: right of
    Test 3's contact, right: left of Test 4's), and Table 4.2 solves it from their
    exact values, not from Table 4.1's 6-digit roundings (which give p* = 1691.6470
    and u* = 8.689774, off in the last printed digit)."""
    if test != 5:
        return TORO[test][:2]
    three = exact_riemann.RiemannProblem(*TORO[3][:2], GAMMA)
    four = exact_riemann.RiemannProblem(*TORO[4][:2], GAMMA)
    return ((three.star_density(three.right), three.u_star, three.p_star),
            (four.star_density(four.left), four.u_star, four.p_star))


def assert_table_digits(test, values):
    """(p*, u*, rho*_L, rho*_R) rounded to the decimals Toro prints equal his table."""
    for n, (value, printed) in enumerate(zip(values, STAR[test])):
        decimals = len(printed.split(".")[1])
        assert round(value, decimals) == float(printed), (test, n, value, printed)


@pytest.mark.parametrize("test", sorted(STAR))
def test_reference_solver_reproduces_toro_table(test):
    """The tests' own exact solver (Newton on Toro eq. 4.5) gives Toro's Table 4.2
    digit for digit."""
    left, right = table_inputs(test)
    problem = exact_riemann.RiemannProblem(left, right, GAMMA)
    assert_table_digits(test, (problem.p_star, problem.u_star,
                               problem.star_density(problem.left),
                               problem.star_density(problem.right)))


@pytest.mark.parametrize("test", sorted(STAR))
def test_exact_solver_star_region(test):
    """hydro's exact solver, sampled just left and right of the contact, gives
    Toro's Table 4.2 digit for digit."""
    left, right = table_inputs(test)
    u_star = float(STAR[test][1])
    eps = 1e-3 * max(1.0, abs(u_star))  # inside the star region on each side
    r_l, v, p, _ = exact_state(*left, *right, GAMMA, u_star - eps)
    r_r, v_r, p_r, _ = exact_state(*left, *right, GAMMA, u_star + eps)
    assert (v, p) == (v_r, p_r)
    assert_table_digits(test, (p, v, r_l, r_r))


@pytest.mark.parametrize("test", sorted(TORO))
def test_exact_solver_profiles_match_the_reference(test):
    """hydro.euler.riemann.exact_solution (the 'exact' flux samples it at x/t = 0) equals
    the independent solver at 2001 points across every wave, fans included, to
    1e-12 of each variable's largest value."""
    left, right, tlim = TORO[test]
    x = np.linspace(0.0, 1.0, 2001)
    ours = exact_riemann.solution(left, right, GAMMA, x, tlim)
    theirs = exact_solution(left, right, GAMMA, x, tlim)
    for v in range(3):
        scale = np.abs(ours[v]).max()
        np.testing.assert_allclose(theirs[v], ours[v], rtol=0, atol=1e-12 * scale)


def test_exact_solver_vacuum_generation():
    """Toro's Test 2 pulled apart faster, u = -/+ 4: the rarefactions leave a vacuum
    between u_L + 2 c_L / (g - 1) and u_R - 2 c_R / (g - 1) (Toro sec. 4.6.3).  hydro's
    exact solver equals the independent one in density and pressure everywhere and
    in velocity wherever there is gas, to 1e-12."""
    left, right, t = (1.0, -4.0, 0.4), (1.0, 4.0, 0.4), 0.1
    assert exact_riemann.RiemannProblem(left, right, GAMMA).vacuum
    x = np.linspace(0.0, 1.0, 2001)
    ours = exact_riemann.solution(left, right, GAMMA, x, t)
    theirs = exact_solution(left, right, GAMMA, x, t)
    gas = ours[0] > 0.0
    assert np.sum(~gas) > 50 and gas[0] and gas[-1]  # a vacuum inside the domain
    for v in (0, 2):
        np.testing.assert_allclose(theirs[v], ours[v], rtol=0, atol=1e-12 * ours[v].max())
    np.testing.assert_allclose(theirs[1][gas], ours[1][gas], rtol=0, atol=1e-12 * 4.0)


def test_references_do_not_import_hydro():
    """The yardsticks must stand on their own: importing them loads no part of hydro."""
    code = ("import sys, exact_riemann, reference_muscl; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'hydro'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=pathlib.Path(__file__).parent, check=True)
    assert out.stdout.strip() == "[]"


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
    return x, rho, exact_riemann.solution(left, right, GAMMA, x, tlim)[0]


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
                   exact_riemann.solution(left, right, GAMMA, x, tlim)[0])
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
                   exact_riemann.solution(left, right, GAMMA, (np.arange(400) + 0.5) / 400,
                                          tlim)[0])
    assert errors[1] < 0.8 * errors[0], errors
    assert errors[1] <= 2.0 * reference, (errors, reference)


@pytest.mark.parametrize("integrator", ["rk2", "rk3"])
def test_sod_runge_kutta(integrator, tmp_path):
    left, right, tlim = TORO[1]
    _, rho, exact = run_tube(1, 400, tmp_path, integrator=integrator)
    reference = l1(reference_muscl.solve(left, right, GAMMA, 400, tlim), exact)
    assert l1(rho[0], exact) <= 2.0 * reference


SHEAR_TUBE = '''
"""Sod's tube with a shear and a dye: transverse velocities and a passive scalar
that jump at the contact."""
import numpy as np
from hydro.core.problem import Parameter

PARAMETERS = [Parameter("direction", "x", "", "axis of the tube", ("x", "y", "z"))]
SCALARS = ("dye",)
# rho, normal velocity, the two transverse velocities (cyclic order), p, dye
LEFT = (1.0, 0.0, 0.7, -0.4, 1.0, 0.8)
RIGHT = (0.125, 0.0, -0.3, 0.5, 0.1, 0.1)


def initial_conditions(w, block, mesh, p, gamma):
    axis = "xyz".index(p.direction)
    x = np.broadcast_to(block.coordinates()[axis], w[0][block.active].shape)
    for v, state in enumerate(zip(LEFT, RIGHT)):
        index = (0, 1 + axis, 1 + (axis + 1) % 3, 1 + (axis + 2) % 3, 4, 5)[v]
        w[index][block.active] = np.where(x < 0.5, *state)
'''


def test_shear_and_dye_ride_with_the_contact_along_every_axis(tmp_path):
    """Transverse velocities and a passive scalar are carried by the mass flux (Toro
    sec. 4.8): they keep their left and right values everywhere but at the contact
    (to 1e-9 beyond 15 cells from it, where the smeared contact's tail has died
    out; a velocity component mixed up with another, or a scalar taken from the
    downwind side, is off by 0.1 or more), the dye stays within its two values,
    whichever axis the tube lies along; and the profiles along x, y and z agree to
    1e-12, so no sweep mixes up the components."""
    (tmp_path / "shear_tube.py").write_text(SHEAR_TUBE)
    left, right, tlim = (1.0, 0.0, 1.0), (0.125, 0.0, 0.1), 0.2
    n, profiles = 200, {}
    for axis, direction in enumerate("xyz"):
        sim = simulate({"problem": str(tmp_path / "shear_tube.py"),
                        "mesh": {"nx": [4] * axis + [n], "boundary": ["outflow"] * (axis + 1)},
                        "hydro": {"gamma": GAMMA, "cfl": 0.4}, "time": {"tlim": tlim},
                        "output": {"snapshots": False},
                        "problem_params": {"direction": direction}}, tmp_path / direction)
        s = sim.states[0]
        order = (0, 1 + axis, 1 + (axis + 1) % 3, 1 + (axis + 2) % 3, 4, 5)
        # (variable, pencil, cell along the tube)
        w = np.moveaxis(s.w[(list(order),) + s.block.active], 3 - axis, -1).reshape(6, -1, n)
        assert np.all(w == w[:, :1]), direction  # every pencil alike
        profiles[direction] = w[:, 0]
    x = (np.arange(n) + 0.5) / n
    contact = 0.5 + exact_riemann.RiemannProblem(left, right, GAMMA).u_star * tlim
    for direction, w in profiles.items():
        np.testing.assert_allclose(w, profiles["x"], rtol=0, atol=1e-12, err_msg=direction)
        assert np.all((w[5] >= 0.1 - 1e-14) & (w[5] <= 0.8 + 1e-14)), direction
        for v, (value_l, value_r) in ((2, (0.7, -0.3)), (3, (-0.4, 0.5)), (5, (0.8, 0.1))):
            far_left, far_right = x < contact - 15.0 / n, x > contact + 15.0 / n
            np.testing.assert_allclose(w[v][far_left], value_l, rtol=0, atol=1e-9)
            np.testing.assert_allclose(w[v][far_right], value_r, rtol=0, atol=1e-9)
