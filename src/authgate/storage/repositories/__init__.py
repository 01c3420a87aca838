"""Repositories: keyword-only, fully typed functions over an AsyncSession."""
