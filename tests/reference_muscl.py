"""An independent reference scheme for the shock-tube tests: 1D MUSCL-Hancock
with HLLC in plain numpy (Toro 2009, sec. 14.4 and 10.4, primitive-variable
Hancock predictor, eqs. 14.36-14.37 in primitive form), written without any
code of ``hydro`` so that it can serve as the yardstick "a correct MUSCL-HLLC
scheme" for the L1 errors.  Transmissive boundaries, CFL 0.4.
"""

import numpy as np


def _minmod_mc(dl, dr):
    s = np.sign(dl)
    mc = s * np.minimum(np.minimum(2 * np.abs(dl), 2 * np.abs(dr)), 0.5 * np.abs(dl + dr))
    return np.where(dl * dr > 0, mc, 0.0)


def _hllc(wl, wr, g):
    rl, ul, pl = wl
    rr, ur, pr = wr
    cl, cr = np.sqrt(g * pl / rl), np.sqrt(g * pr / rr)
    # Davis (1988) wave speed bounds, a different choice from hydro's PVRS estimate
    sl = np.minimum(ul - cl, ur - cr)
    sr = np.maximum(ul + cl, ur + cr)
    ss = (pr - pl + rl * ul * (sl - ul) - rr * ur * (sr - ur)) / (rl * (sl - ul) - rr * (sr - ur))

    def cons(r, u, p):
        return np.array([r, r * u, p / (g - 1) + 0.5 * r * u * u])

    def flux(r, u, p):
        e = p / (g - 1) + 0.5 * r * u * u
        return np.array([r * u, r * u * u + p, (e + p) * u])

    def star(r, u, p, s):
        e = p / (g - 1) + 0.5 * r * u * u
        f = r * (s - u) / (s - ss)
        return np.array([f, f * ss, f * (e / r + (ss - u) * (ss + p / (r * (s - u))))])

    ul_c, ur_c = cons(*wl), cons(*wr)
    fl, fr = flux(*wl), flux(*wr)
    fsl = fl + sl * (star(*wl, sl) - ul_c)
    fsr = fr + sr * (star(*wr, sr) - ur_c)
    return np.where(sl >= 0, fl, np.where(ss >= 0, fsl, np.where(sr > 0, fsr, fr)))


def solve(left, right, gamma, n, tlim, x0=0.5, cfl=0.4, order=2):
    """Density at the n cell centres of [0, 1] at tlim (order 1: Godunov with HLLC)."""
    g = gamma
    dx = 1.0 / n
    x = (np.arange(n) + 0.5) * dx
    w = np.array([np.where(x < x0, left[q], right[q]) for q in range(3)], dtype=float)
    u = np.array([w[0], w[0] * w[1], w[2] / (g - 1) + 0.5 * w[0] * w[1] ** 2])
    t = 0.0
    while t < tlim:
        w = np.array([u[0], u[1] / u[0], (g - 1) * (u[2] - 0.5 * u[1] ** 2 / u[0])])
        dt = min(cfl * dx / np.max(np.abs(w[1]) + np.sqrt(g * w[2] / w[0])), tlim - t)
        wg = np.concatenate([w[:, :1], w[:, :1], w, w[:, -1:], w[:, -1:]], axis=1)
        d = _minmod_mc(wg[:, 1:-1] - wg[:, :-2], wg[:, 2:] - wg[:, 1:-1]) * (order - 1)
        wc = wg[:, 1:-1]
        r, v, p = wc
        # Hancock half step in primitive form: W_t + A(W) W_x = 0
        dw = np.array([v * d[0] + r * d[1], v * d[1] + d[2] / r, g * p * d[1] + v * d[2]])
        half = 0.5 * dt / dx * dw
        w_minus = wc - 0.5 * d - half  # value at each cell's left face
        w_plus = wc + 0.5 * d - half  # value at each cell's right face
        f = _hllc(w_plus[:, :-1], w_minus[:, 1:], g)
        u = u - dt / dx * (f[:, 1:] - f[:, :-1])
        t += dt
    return u[0]
