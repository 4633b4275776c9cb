"""This new Linux patch can speed up reading requests: io_uring zero-copy receive."""
