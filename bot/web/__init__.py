"""The history in a browser: the database served read-only through Datasette (optional)."""
