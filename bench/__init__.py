"""Banli benchmarks: `python -m bench --help`."""
