"""Numerical diffusion of the phase-space solver on the production grid (not collected by
pytest: ~30-60 s on 2 cores).

The fiducial slab's linear bending kick (1 km/s) on 512^2 over 1 Gyr, snapshots every
100 Myr: |A_1(E = 2 sigma^2, t)| (the cos(theta) amplitude of delta f/f0 on that orbit)
fitted to exp[-(t/t_D)^3], and the equivalent diffusion coefficient
D_num = 3/(t_D^3 (dOmega/dE)^2 <v^2>_E) (shared/notes/phase-mixing.md §3, §6 "grid
rule"); the rule is t_D,num >= 3 t_end.

    python tests/measure_phase_space_diffusion.py [n] [t_end_Myr] [snapshot_dt_Myr]
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import simulate  # noqa: E402
from test_phase_space import (KMS, amplitude_decay_time, centres, fiducial,  # noqa: E402
                              snapshots)


def main(n=512, t_end=1000.0, every=100.0):
    out = tempfile.mkdtemp(prefix="pm_diffusion_")
    params = fiducial(n, f"{t_end} Myr", kick="bending", dv="1 km/s", linear=True,
                      output={"snapshots": True, "dt": f"{every} Myr", "history_dt": "5 Myr"})
    start = time.perf_counter()
    sim = simulate(params, out)
    wall = time.perf_counter() - start
    zc, vc = centres(sim)
    t_d, d_num, pts = amplitude_decay_time(snapshots(sim), zc, vc)
    print(f"{n}^2, {t_end:g} Myr, step 1/160 of the period: wall {wall:.1f} s")
    for t, r in pts:
        print(f"  t = {t:7.1f} Myr  |A_1|/|A_1|(0) = {r:.6f}")
    print(f"t_D,num = {t_d:.0f} Myr ({t_d / t_end:.2f} t_end; rule: >= 3 t_end), "
          f"D_num = {d_num / KMS ** 2:.3e} (km/s)^2/Myr")
    return t_d >= 3 * t_end


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    ok = main(int(args[0]) if args else 512, *args[1:])
    sys.exit(0 if ok else 1)
