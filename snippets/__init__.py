"""Runnable demos, one subpackage per episode.

Run one with ``python -m snippets.<episode>.<demo>``.
"""
