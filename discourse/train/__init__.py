"""Training and evaluation code for the shipped heads (needs ../shared/data)."""
