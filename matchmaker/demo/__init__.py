"""Demo data written by the team for `make run`, and loading listing files in bulk."""
