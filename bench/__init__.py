"""Benchmarks: `make bench` (`python -m bench`). Figures for people to read, never test assertions."""
