"""Benchmarks: the SDK against raw httpx / aiohttp clients, measured in the same run.

Run with ``make bench`` (or ``python -m bench``; ``python -m bench --quick`` for a
seconds-long smoke run). See ``bench/run.py`` for the cases and README.md ("Performance")
for the latest results.
"""
