"""Benchmarks: they print figures, they are not tests. Run them from the repo root: `python -m bench.<name>`."""
