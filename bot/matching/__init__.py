"""Text normalisation, the matcher, watchlist files, live edits, reloads and evaluation."""
