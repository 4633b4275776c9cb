"""Runnable demos, one subpackage per episode: ``python -m snippets.<episode>.<demo>``."""
