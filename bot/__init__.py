"""Sahel watch: news feeds in, watchlist hits out, alerts to Telegram."""

__version__ = "0.1.0"
