"""password."""
