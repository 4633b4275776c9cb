"""Episode 2024-09-07: frontend and backend timeouts, on real loopback sockets."""
