"""signin."""
