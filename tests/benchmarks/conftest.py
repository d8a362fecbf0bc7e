"""Benchmarks run only when asked for (`make bench`); they print figures and check ratios, not seconds."""
