"""Episode 2024-08-30: Windows vs Linux, connect() and its failure modes on Linux."""
