"""Outputs: GDF snapshots (``yt.load``; exact restart data), the history file, and
the checks that keep a run's output directory from mixing runs."""
