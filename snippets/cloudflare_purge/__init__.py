"""Cloudflare's 150 ms global cache purge: lazy vs active purge, LSM vs B-tree."""
