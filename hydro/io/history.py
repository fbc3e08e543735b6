"""The history file ``<dir>/<basename>.hst``: global totals against time.

Plain text: comment lines starting with '#' (the code units, each column's
unit, and last the columns' names), then one row per history time and one for the final state.  Rows
are appended whole and flushed before every snapshot and at the end; a crash
can leave a partial last row, which a restart drops together with the rows
written after the restart time.
"""

import os


class History:
    """``columns`` after time, dt and cycle; ``units``, one per column including
    those three, is written as a comment line (code units, as ``header`` says)."""

    def __init__(self, path, columns, header, units=None, restart_time=None):
        self.path = path
        self.columns = ["time", "dt", "cycle"] + list(columns)
        if restart_time is None or not os.path.exists(path):
            lines = [f"# {header}\n"]
            if units is not None:
                lines.append("# units: " + " ".join(
                    f"{c}:{u or '1'}" for c, u in zip(self.columns, units)) + "\n")
            lines.append("# " + " ".join(f"[{n + 1}]={c}" for n, c in enumerate(self.columns))
                         + "\n")
        else:
            with open(path) as f:
                # a crash can leave a partial last row (no newline): drop it
                lines = [ln for ln in f if ln.endswith("\n") and ln.strip() and
                         (ln.startswith("#") or float(ln.split()[0]) <= restart_time)]
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.writelines(lines)
        os.replace(tmp, path)
        self.file = open(path, "a")

    def write(self, t, dt, cycle, totals):
        values = " ".join(f"{v:+.16e}" for v in totals)
        self.file.write(f"{t:.16e} {dt:.16e} {cycle:d} {values}\n")

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()


def read(path):
    """(column names, rows as lists of floats) of a history file."""
    names, rows = [], []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                if "[1]=" in line:
                    names = [c.split("=", 1)[1] for c in line[1:].split()]
            elif line.strip():
                rows.append([float(v) for v in line.split()])
    return names, rows
