"""Storage: SQLAlchemy models, repositories and migrations. Nothing else writes SQL."""
