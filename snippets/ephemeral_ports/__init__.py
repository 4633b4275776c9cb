"""Episode 2024-08-25: running out of TCP ephemeral source ports, in private namespaces."""
