"""Shipped model weights, registry and model cards (installed as ``discourse._bundled``)."""
