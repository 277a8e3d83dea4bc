"""Benchmarks that print figures (``make bench``). Never timed assertions: compare in one run."""
