"""Independent reference solutions for the (z, v_z) Vlasov system (phase mixing).

Nothing here comes from ``hydro``: numpy and scipy only, written from the physics
note (phase-mixing.md §1.1, §2.1, §5) so that the solver's tests compare it with
formulas it did not share code with.  Every function works in any consistent unit
system; the tests use code units kpc, Myr, Msun (``G_KPC_MYR_MSUN``,
``KMS_IN_KPC_PER_MYR``).

Potentials (objects with ``phi(z)``, ``accel(z)`` = -dPhi/dz, ``zmax(E)``):

* :class:`Slab`: isothermal slab Phi0 = 2 sigma^2 ln cosh(z/z0), z0 = sigma/sqrt(2 pi G rho0),
  plus an optional halo term nu_h^2 z^2/2 (``halo`` = nu_h^2/nu0^2, nu0^2 = 4 pi G rho0);
* :class:`Harmonic`: Phi = nu^2 z^2/2;
* :class:`Uniform`: Phi = g z (acceleration -g).

Exact solutions: :func:`harmonic_solution` (rigid rotation), :func:`uniform_solution`
(shear), :func:`free_streaming_decay`.

Characteristics oracle (note §5.6): :func:`oracle` integrates the characteristics
backward from (z, v, t) to t = 0 with a 6th-order symplectic composition (Yoshida 1990,
solution A, of the drift-kick-drift leapfrog) and returns f_i(Z(0), V(0));
:func:`oracle_cell_average` averages it over each cell with n x n Gauss-Legendre points
(n = 4 by default: exact for polynomials of degree 7 per axis, so the quadrature error is
~ (cell/L)^8 for a function varying on the scale L; tested against n = 6 in
test_phase_space).  The default step is 1/400 of the shortest period (the midplane one):
the 6th-order error is then ~ (2 pi/400)^6 ~ 1e-11 per period.

Linear theory of a kick by quadrature over unperturbed orbits (§2.1, §5.5):
:class:`OrbitTable` samples every orbit of a static symmetric potential at N equally
spaced angles (theta = 0 at z = 0, v > 0; orbits integrated over one period, computed
by quadrature), on Gauss-Legendre nodes in a = sqrt(E) (the integrands are smooth in a,
not in E).  With dz dv = dE dtheta / Omega(E) and Liouville,
    int int g(z, v) f(z, v, t) dz dv
        = int dE/Omega int dtheta g(Z(E, theta + Omega t)) f_i(E, theta)
which, with the angle Fourier series of both factors, is exact in t: no time stepping.
:func:`kick_moments` gives <z>, <v_z>, <z v_z> of a bending or breathing kick, linear
(f1 = dv(z) v f0/sigma^2, isothermal) or full (f_i = f0(z, v - dv(z)) - f0), divided by the
mass of f = f0 + delta f in the box.
"""

import math

import numpy as np
from scipy import constants, integrate, special

# code units kpc, Myr, Msun
_KPC = 1e3 * constants.parsec
_MYR = 1e6 * constants.Julian_year
_MSUN = 1.98841586e30  # kg (IAU 2015 nominal GM_sun / G 2018)
G_KPC_MYR_MSUN = constants.G * _MSUN * _MYR ** 2 / _KPC ** 3
KMS_IN_KPC_PER_MYR = 1e3 * _MYR / _KPC
MSUN_PC3_IN_CODE = 1e9  # 1 Msun/pc^3 in Msun/kpc^3


# ----------------------------------------------------------------------------- potentials

class Slab:
    """Isothermal (Spitzer) slab of dispersion ``sigma`` and midplane density ``rho0``,
    plus an optional harmonic halo term (``halo`` = nu_h^2/nu0^2)."""

    def __init__(self, sigma, rho0, G, halo=0.0):
        self.sigma, self.rho0, self.G, self.halo = sigma, rho0, G, halo
        self.z0 = sigma / math.sqrt(2 * math.pi * G * rho0)
        self.nu0 = math.sqrt(4 * math.pi * G * rho0)  # = sqrt(2) sigma/z0
        self.nuh2 = halo * self.nu0 ** 2
        self.nu_mid = math.sqrt(self.nu0 ** 2 + self.nuh2)  # sqrt(Phi''(0))

    def phi(self, z):
        x = np.abs(z) / self.z0
        # ln cosh x = log1p(2 sinh^2(x/2)) without cancellation at small x;
        # x + log1p(exp(-2x)) - ln 2 at large x (no overflow)
        xs = np.minimum(x, 20.0)
        lncosh = np.where(x < 20.0, np.log1p(2 * np.sinh(0.5 * xs) ** 2),
                          x + np.log1p(np.exp(-2 * x)) - math.log(2.0))
        return 2 * self.sigma ** 2 * lncosh + 0.5 * self.nuh2 * z * z

    def accel(self, z):
        return -(2 * self.sigma ** 2 / self.z0) * np.tanh(z / self.z0) - self.nuh2 * z

    def zmax(self, E):
        E = np.asarray(E, dtype=float)
        # slab alone: cosh(zmax/z0) = exp(E/2 sigma^2)
        y = E / (2 * self.sigma ** 2)
        # arccosh(exp(y)) = ln(e^y + sqrt(e^2y - 1)) = y + ln(1 + sqrt(1 - e^-2y))
        z = self.z0 * (y + np.log1p(np.sqrt(-np.expm1(-2 * y))))
        if self.nuh2:
            for _ in range(60):  # Newton on Phi(z) = E from above (Phi convex)
                z = z - (self.phi(z) - E) / np.maximum(-self.accel(z), 1e-300)
        return z


class Harmonic:
    """Phi = nu^2 z^2 / 2."""

    def __init__(self, nu):
        self.nu = self.nu_mid = nu

    def phi(self, z):
        return 0.5 * self.nu ** 2 * z * z

    def accel(self, z):
        return -self.nu ** 2 * z

    def zmax(self, E):
        return np.sqrt(2 * np.asarray(E, dtype=float)) / self.nu


class Uniform:
    """Phi = g z: a uniform acceleration -g (g = 0: free streaming)."""

    def __init__(self, g):
        self.g = g
        self.nu_mid = 0.0

    def phi(self, z):
        return self.g * z

    def accel(self, z):
        return -self.g * np.ones_like(z)


def isothermal_f0(pot, sigma, rho0):
    """f0(z, v) = rho0/(sqrt(2 pi) sigma) exp(-E/sigma^2)."""
    A = rho0 / (math.sqrt(2 * math.pi) * sigma)
    return lambda z, v: A * np.exp(-(0.5 * v * v + pot.phi(z)) / sigma ** 2)


def lowered_f0(pot, sigma, rho0, e_max):
    """f0 = rho0/(sqrt(2 pi) sigma) [exp(-E/sigma^2) - exp(-e_max)] for E < e_max sigma^2,
    0 above (the normalisation is this module's; tests compare shapes or delta f)."""
    A = rho0 / (math.sqrt(2 * math.pi) * sigma)

    def f0(z, v):
        e = (0.5 * v * v + pot.phi(z)) / sigma ** 2
        return np.where(e < e_max, A * (np.exp(-e) - math.exp(-e_max)), 0.0)
    return f0


# ------------------------------------------------------------------------ exact solutions

def harmonic_solution(f_i, z, v, t, nu):
    """Rigid rotation in Phi = nu^2 z^2/2 (note §5.1)."""
    c, s = math.cos(nu * t), math.sin(nu * t)
    return f_i(z * c - (v / nu) * s, v * c + nu * z * s)


def uniform_solution(f_i, z, v, t, g):
    """Shear in Phi = g z (acceleration -g, note §5.3): f_i(z - v t - g t^2/2, v + g t)
    (the characteristic through (z, v) at t has V(t') = v + g (t - t'), so
    V(0) = v + g t and Z(0) = z - v t - g t^2/2)."""
    return f_i(z - v * t - 0.5 * g * t * t, v + g * t)


def free_streaming_decay(k, sigma, t):
    """delta rho_k(t)/delta rho_k(0) for a Maxwellian of dispersion sigma, Phi = 0."""
    return np.exp(-0.5 * (k * sigma * np.asarray(t)) ** 2)


# ---------------------------------------------------------------- characteristics oracle

# Yoshida (1990) 6th order, solution A
_W1, _W2, _W3 = -1.17767998417887, 0.235573213359357, 0.784513610477560
_W0 = 1.0 - 2.0 * (_W1 + _W2 + _W3)
_YOSHIDA6 = (_W3, _W2, _W1, _W0, _W1, _W2, _W3)


def integrate_orbits(z, v, t, accel, h):
    """Move (z, v) by time t (either sign; t and h may be arrays broadcasting with z) with
    n = ceil(|t|/h) equal steps of the 6th-order symplectic composition of
    drift-kick-drift leapfrogs.  Returns new arrays."""
    z = np.array(z, dtype=float, copy=True)
    v = np.array(v, dtype=float, copy=True)
    t = np.asarray(t, dtype=float)
    n = int(np.max(np.ceil(np.abs(t) / h))) if np.any(t != 0) else 0
    if n == 0:
        return z, v
    dt = t / n
    for _ in range(n):
        for w in _YOSHIDA6:
            z += 0.5 * w * dt * v
            v += w * dt * accel(z)
            z += 0.5 * w * dt * v
    return z, v


def _default_step(pot, t):
    nu = getattr(pot, "nu_mid", 0.0)
    if nu > 0:
        return 2 * math.pi / nu / 400.0
    return max(abs(float(np.max(np.abs(t)))), 1e-300)  # uniform field: leapfrog is exact


def oracle(f_i, pot, z, v, t, h=None):
    """f(z, v, t) = f_i(Z(0), V(0)), the characteristic through (z, v) at time t traced
    back to t = 0 in the static potential ``pot``."""
    h = _default_step(pot, t) if h is None else h
    z0, v0 = integrate_orbits(z, v, -t, pot.accel, h)
    return f_i(z0, v0)


def cell_edges(xmin, xmax, n):
    return np.linspace(xmin, xmax, n + 1)


def gauss_cell_average(func, zedges, vedges, n=4):
    """Cell averages of func(z, v) on the cells of the edges, shape (n_v, n_z), with n x n
    Gauss-Legendre points per cell."""
    x, w = np.polynomial.legendre.leggauss(n)
    x, w = 0.5 * x, 0.5 * w  # on [-1/2, 1/2], weights summing to 1
    zc, dz = 0.5 * (zedges[1:] + zedges[:-1]), np.diff(zedges)
    vc, dv = 0.5 * (vedges[1:] + vedges[:-1]), np.diff(vedges)
    zq = (zc[:, None] + dz[:, None] * x[None, :]).ravel()        # (n_z * n)
    vq = (vc[:, None] + dv[:, None] * x[None, :]).ravel()        # (n_v * n)
    Z, V = np.meshgrid(zq, vq)                                   # (n_v n, n_z n)
    F = func(Z, V).reshape(len(vc), n, len(zc), n)
    return np.einsum("a,jaib,b->ji", w, F, w)


def oracle_cell_average(f_i, pot, t, zedges, vedges, n=4, h=None):
    """Cell averages (n_v, n_z) of the characteristics oracle at time t."""
    return gauss_cell_average(lambda z, v: oracle(f_i, pot, z, v, t, h), zedges, vedges, n)


def block_average(a, r):
    """Average a (n_v, n_z) array over r x r blocks (fine cells -> nested coarse cells)."""
    nv, nz = a.shape
    return a.reshape(nv // r, r, nz // r, r).mean(axis=(1, 3))


# ------------------------------------------------------------------- orbits and frequencies

def period(pot, E, n=64):
    """Vertical period T(E) = 4 int_0^zmax dz / sqrt(2 (E - Phi)) with z = zmax sin u
    (the integrand is then regular), n-point Gauss-Legendre on u in [0, pi/2]."""
    E = np.atleast_1d(np.asarray(E, dtype=float))
    zm = pot.zmax(E)
    x, w = np.polynomial.legendre.leggauss(n)
    u = 0.25 * math.pi * (x + 1)
    w = 0.25 * math.pi * w
    z = zm[:, None] * np.sin(u)[None, :]
    # E - Phi(z) with E = Phi(zmax) (Phi ~ z^2 at small z without an offset: no cancellation)
    diff = pot.phi(zm)[:, None] - pot.phi(z)
    integrand = zm[:, None] * np.cos(u)[None, :] / np.sqrt(2 * diff)
    return 4 * integrand @ w


def omega(pot, E, n=64):
    return 2 * math.pi / period(pot, E, n)


def domega_dE(pot, E, rel=1e-4):
    E = np.asarray(E, dtype=float)
    h = rel * E
    return (omega(pot, E + h) - omega(pot, E - h)) / (2 * h)


class OrbitTable:
    """Every orbit of a static, symmetric potential sampled at N equal angles.

    ``a`` (n_E,) Gauss-Legendre nodes of a = sqrt(E) on [0, sqrt(e_cut)], ``wE`` the
    weights of dE = 2 a da; ``E``, ``Omega``, ``T``; ``Z``, ``V`` (n_E, N): the orbit at
    theta_k = 2 pi k/N (theta = 0 at z = 0, v > 0), from one period of the 6th-order
    integrator with ``substeps`` steps per sample.  Phase-space integrals:
        int int g dz dv = sum_E wE/Omega * (2 pi/N) sum_k g(Z, V)   (E < e_cut)."""

    def __init__(self, pot, e_cut, n_E=240, N=256, substeps=4):
        x, w = np.polynomial.legendre.leggauss(n_E)
        amax = math.sqrt(e_cut)
        self.a = 0.5 * amax * (x + 1)
        self.wE = 0.5 * amax * w * 2 * self.a
        self.E = self.a ** 2
        self.T = period(pot, self.E, n=128)
        self.Omega = 2 * math.pi / self.T
        self.N = N
        self.theta = 2 * math.pi * np.arange(N) / N
        Z = np.empty((n_E, N))
        V = np.empty((n_E, N))
        z = np.zeros(n_E)
        v = np.sqrt(2 * self.E)
        h = self.T / (N * substeps)
        for k in range(N):
            Z[:, k], V[:, k] = z, v
            for _ in range(substeps):
                for wy in _YOSHIDA6:
                    z = z + 0.5 * wy * h * v
                    v = v + wy * h * pot.accel(z)
                    z = z + 0.5 * wy * h * v
        self.Z, self.V = Z, V
        # closure check: back at the start after one period
        self.closure = float(max(np.max(np.abs(z) / pot.zmax(self.E)),
                                 np.max(np.abs(v - np.sqrt(2 * self.E)) / np.sqrt(2 * self.E))))
        self.weight = self.wE / self.Omega * (2 * math.pi / N)  # per (E, theta_k) sample

    def integral(self, values):
        """int int g dz dv from the samples g(Z, V) (n_E, N)."""
        return float(np.sum(self.weight[:, None] * values))

    def correlation(self, g, f, times):
        """C(t) = int int g(z(t)) f_i dz0 dv0 for g, f (n_E, N) sampled on the orbits:
        sum_E wE/Omega 2 pi sum_n ghat_n conj(fhat_n) e^{i n Omega t}."""
        gh = np.fft.fft(g, axis=1) / self.N
        fh = np.fft.fft(f, axis=1) / self.N
        n = np.fft.fftfreq(self.N, 1.0 / self.N)
        prod = gh * np.conj(fh)                                   # (n_E, N)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        out = np.empty(len(times))
        for i, t in enumerate(times):
            ph = np.exp(1j * n[None, :] * self.Omega[:, None] * t)
            out[i] = np.real(np.sum(self.wE[:, None] / self.Omega[:, None] * 2 * math.pi
                                    * prod * ph))
        return out


def orbit_at_energy(pot, E, N=256, substeps=8):
    """(theta, Z, V, T): one orbit of energy E sampled at N equal angles."""
    T = float(period(pot, E, n=128)[0])
    h = T / (N * substeps)
    z, v = 0.0, math.sqrt(2 * E)
    Z, V = np.empty(N), np.empty(N)
    for k in range(N):
        Z[k], V[k] = z, v
        for _ in range(substeps):
            for wy in _YOSHIDA6:
                z += 0.5 * wy * h * v
                v += wy * h * float(pot.accel(np.float64(z)))
                z += 0.5 * wy * h * v
    return 2 * math.pi * np.arange(N) / N, Z, V, T


def box_energy(pot, zmax_box, vmax_box):
    """The largest E whose whole orbit stays inside |z| <= zmax_box, |v| <= vmax_box."""
    return float(min(pot.phi(np.float64(zmax_box)), 0.5 * vmax_box ** 2))


def box_mass(f0, zmax_box, vmax_box, n=400):
    """int int f0 over the box (n x n Gauss-Legendre on each axis: f0 is smooth)."""
    x, w = np.polynomial.legendre.leggauss(n)
    Z, V = np.meshgrid(zmax_box * x, vmax_box * x)
    return float(zmax_box * vmax_box * np.sum(w[None, :] * w[:, None] * f0(Z, V)))


def _edge_moments(pot, delta_f, box, e_cut, times, n=400, steps_per_period=400):
    """int int (z, v, z v)(t) delta f_i dz0 dv0 over the box points with E > e_cut, each
    counted only while its orbit has stayed inside the box (outflow: delta f that leaves
    is lost, and what comes back in is 0).  Every such orbit reaches |z| > box (E > Phi(L))
    or |v| > box (E > vmax^2/2), so all have left within one period of the largest E.
    n x n Gauss-Legendre points on the box; the 6th-order integrator."""
    x, w = np.polynomial.legendre.leggauss(n)
    zz, vv = np.meshgrid(box[0] * x, box[1] * x)
    W = box[0] * box[1] * w[None, :] * w[:, None]
    sel = (0.5 * vv * vv + pot.phi(zz)) > e_cut
    z, v, W = zz[sel], vv[sel], W[sel]
    g = delta_f(z, v) * W
    times = np.atleast_1d(np.asarray(times, dtype=float))
    out = np.zeros((3, len(times)))
    h = 2 * math.pi / pot.nu_mid / steps_per_period
    alive = np.ones(len(z), bool)
    t = 0.0
    order = np.argsort(times)
    k = 0
    while k < len(times):
        while k < len(times) and times[order[k]] <= t + 1e-12 * h:
            a = g * alive
            out[:, order[k]] = [np.sum(a * z), np.sum(a * v), np.sum(a * z * v)]
            k += 1
        if k == len(times) or not alive.any():
            break
        step = min(h, times[order[k]] - t)
        for wy in _YOSHIDA6:
            z = z + 0.5 * wy * step * v
            v = v + wy * step * pot.accel(z)
            z = z + 0.5 * wy * step * v
        t += step
        alive &= (np.abs(z) <= box[0]) & (np.abs(v) <= box[1])
    return out


def kick_moments(slab, times, kick="bending", dv=1.0, linear=True, box=None, f0="isothermal",
                 e_max=11.0, n_E=240, N=256):
    """Global moments of the response to an impulsive kick at t = 0 in ``slab`` (a Slab;
    or any symmetric potential object given attributes sigma, rho0 and z0).

    kick: 'bending' (dv(z) = dv) or 'breathing' (dv(z) = -dv z/z0).
    linear: f1 = -dv(z) df0/dv; otherwise the full delta f = f0(z, v - dv(z)) - f0.
    box: (zmax, vmax) of the grid, or None (infinite).  Orbits that stay inside
    (E <= box_energy) go through the OrbitTable (exact in t); the few box points with a
    larger E are followed one by one until they leave (:func:`_edge_moments`), which is
    what outflow (delta f = 0 outside) does to them.

    Returns dict: t, mean_z, mean_vz, mean_zvz (each divided by the mass of
    f0 + delta f_i in the box, as the solver's history columns are), mass0 (box mass of
    f0), dmass (mass of delta f_i), edge (3, n_t): the part of the three integrals
    (not divided) from the orbits that leave the box, closure (the orbit table's).
    """
    sigma, rho0 = slab.sigma, slab.rho0
    z0 = slab.z0
    if f0 == "isothermal":
        F0 = isothermal_f0(slab, sigma, rho0)
    else:
        F0 = lowered_f0(slab, sigma, rho0, e_max)
    A = rho0 / (math.sqrt(2 * math.pi) * sigma)
    if kick == "bending":
        dvz = lambda z: dv * np.ones_like(z)  # noqa: E731
    elif kick == "breathing":
        dvz = lambda z: -dv * z / z0  # noqa: E731
    else:
        raise ValueError(kick)

    def delta_f(z, v):
        if linear:
            # -dv(z) df0/dv, df0/dv = -v A exp(-E/sigma^2)/sigma^2 where f0 > 0
            iso = A * np.exp(-(0.5 * v * v + slab.phi(z)) / sigma ** 2)
            return dvz(z) * v / sigma ** 2 * np.where(F0(z, v) > 0, iso, 0.0)
        return F0(z, v - dvz(z)) - F0(z, v)

    finite = box is not None
    e_cut = box_energy(slab, *box) if finite else 40.0 * sigma ** 2
    table = OrbitTable(slab, e_cut, n_E=n_E, N=N)
    df = delta_f(table.Z, table.V)
    Z, V = table.Z, table.V
    t = np.atleast_1d(np.asarray(times, dtype=float))
    moments = np.array([table.correlation(Z, df, t), table.correlation(V, df, t),
                        table.correlation(Z * V, df, t)])
    dmass = table.integral(df)
    if finite:
        mass0 = box_mass(F0, *box)
        edge = _edge_moments(slab, delta_f, box, e_cut, t)
        moments = moments + edge
        x, w = np.polynomial.legendre.leggauss(400)
        zz, vv = np.meshgrid(box[0] * x, box[1] * x)
        W = box[0] * box[1] * w[None, :] * w[:, None]
        dmass += float(np.sum(W * delta_f(zz, vv) * ((0.5 * vv * vv + slab.phi(zz)) > e_cut)))
    else:
        mass0 = table.integral(F0(Z, V))
        edge = np.zeros_like(moments)
    M = mass0 + dmass
    return dict(t=t, mass0=mass0, dmass=dmass, closure=table.closure, edge=edge,
                mean_z=moments[0] / M, mean_vz=moments[1] / M, mean_zvz=moments[2] / M)


def harmonic_bending(nu, dv, t):
    """Exact <z>, <v> of a uniform kick dv in a harmonic potential (any amplitude, note §5.1)."""
    t = np.asarray(t, dtype=float)
    return dv / nu * np.sin(nu * t), dv * np.cos(nu * t)


def angle_amplitude(delta_f, zc, vc, pot, E, f0E, n_harm=4, N=256):
    """|A_n(E)|, n = 1..n_harm: the cos(n theta) amplitude of delta f / f0 on the orbit
    of energy E, with delta f (n_v, n_z) on cell centres zc, vc interpolated bicubically
    to the orbit's N equal-angle points (and the phase arg A_n)."""
    from scipy.interpolate import RectBivariateSpline
    _, Z, V, _ = orbit_at_energy(pot, E, N=N)
    spline = RectBivariateSpline(vc, zc, delta_f, kx=3, ky=3)
    g = spline.ev(V, Z)
    gh = np.fft.fft(g) / N
    amp = 2 * np.abs(gh[1:n_harm + 1]) / f0E
    return amp, np.angle(gh[1:n_harm + 1])


def orbit_mean_v2(pot, E, N=256):
    """<v^2>_E, the orbit time average of v^2 (= J Omega)."""
    _, _, V, _ = orbit_at_energy(pot, E, N=N)
    return float(np.mean(V * V))


def diffusion_from_tD(t_D, n, dOmega_dE, v2):
    """Invert t_D = [3/(n^2 D (dOmega/dE)^2 <v^2>_E)]^(1/3) (note §3) for D."""
    return 3.0 / (n * n * t_D ** 3 * dOmega_dE ** 2 * v2)


def erf_box_fraction(vmax, sigma):
    return special.erf(vmax / (math.sqrt(2) * sigma))


def slab_box_mass(slab, zmax_box, vmax_box):
    """Box mass of the isothermal f0 by 1D quadratures (for cross-checking box_mass)."""
    zint = integrate.quad(lambda z: math.exp(-float(slab.phi(np.float64(z))) / slab.sigma ** 2),
                          -zmax_box, zmax_box, epsabs=0, epsrel=1e-13, limit=200)[0]
    return slab.rho0 * erf_box_fraction(vmax_box, slab.sigma) * zint
