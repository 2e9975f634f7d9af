"""Benchmarks and other tools for developers (not imported at run time)."""
