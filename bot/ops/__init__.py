"""Running it in production: logs, metrics, health, exports, progress, the garbage collector."""
