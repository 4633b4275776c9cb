"""How many kernel calls: one tiny program traced in Python, Node, Bun and C."""
