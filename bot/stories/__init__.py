"""Item identity, fingerprints and the story index that groups reports of one event (pure)."""
