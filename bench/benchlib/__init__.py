"""bench/benchlib: the pieces of bench/run.py (processes, cases, callgrind, report)."""
