"""SIGINT and SIGTERM: stop a run cleanly, every time, on every rank.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread
happens to be, and where that is a finaliser or a callback the exception is
printed as "Exception ignored in ..." and lost: the run went on to the end.
Instead, while the main loop runs, a signal only sets a flag; the loop reads
the flags of all ranks once per cycle (one small allreduce), so every rank
stops after the same cycle, whichever rank got the signal.  Outside the loop
(set-up, compilation) nothing has been written yet and a signal stops the
process at once.  A second signal while a stop is pending also stops at once.

SIGTERM is what a batch system sends at the wall-time limit; exit statuses
follow the shell's convention, 128 + the signal number.
"""

import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """The run was stopped by a signal; ``signum`` is its number."""

    def __init__(self, signum, message="", collective=False):
        super().__init__(message or f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.collective = collective  # raised on every rank after the same cycle

    @property
    def exit_status(self):
        return 128 + self.signum


class StopFlag:
    """Signal handlers for the lifetime of a command; ``deferring`` for the main loop.

    ``pending`` is the number of the first signal received while deferring, or 0."""

    def __init__(self):
        self.pending = 0
        self.deferring = False
        self._previous = {}

    def install(self):
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def uninstall(self):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum, frame):
        if self.deferring and not self.pending:
            self.pending = signum
            return
        raise Interrupted(signum)


# the process's handlers, installed by the command line for ``hydro run``
flag = StopFlag()
