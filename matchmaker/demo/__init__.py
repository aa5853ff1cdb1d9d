"""Demo data written by the team for `make run` (shenyang.json); loaded by services/demo.py."""
