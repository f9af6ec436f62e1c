"""Feeds in: bounded conditional HTTP, its network backend, parsing and workers, cadence, OPML."""
