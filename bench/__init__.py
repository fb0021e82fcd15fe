"""Benchmarks of ddrc-platform: `./ddrc bench` (or `uv run python -m bench`)."""
