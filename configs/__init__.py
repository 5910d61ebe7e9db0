"""Shipped YAML configs (installed as ``discourse._configs``)."""
