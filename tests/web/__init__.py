"""Tests of the web view (Datasette)."""
