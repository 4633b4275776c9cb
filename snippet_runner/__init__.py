"""Site machinery: the MkDocs plugin that runs snippets and notebooks at build time."""
