"""One poll as named stages: fetch, parse, read, group, save, render."""
