"""Command groups beside the core ones in :mod:`discourse.cli`."""
