"""Partnership signals: the partnership file, detection, the map, digest, chart, evaluation."""
