"""Model wrappers behind one protocol, and the registry of shipped weights."""
