"""When do you use threads? Blocking I/O, CPU work, many small tasks, SO_REUSEPORT."""
