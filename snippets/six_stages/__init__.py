"""Six stages of a good software engineer: efficiency through the OS, and its limits."""
