"""Episode 2024-08-25: running out of TCP ephemeral ports, in private namespaces."""
