"""The hosted pages (docs/hosted-pages.md): whether they are served, the admin console's own
switch, the product name, the languages, what the sign-in form asks for, and a directory of
templates, styles and catalogues that replace the shipped ones."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator

from authgate.security.text import has_control_characters
from authgate.settings.base import Section
from authgate.settings.types import CsvList

LOCALE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


class UiIdentifier(StrEnum):
    EMAIL = "email"
    USERNAME = "username"


class UiSettings(Section):
    ui: bool = True
    """Serve the sign-in and account pages under `/ui/`; `false`: every `/ui/…` path is a 404 (but `/ui/static/` while
    the OpenID provider is on, for its pages) and emailed links open the small built-in pages."""
    ui_admin: bool = False
    """Also serve the admin console under `/ui/admin` (with `AUTHGATE_UI` on). Off by default, so that an upgrade
    exposes no new admin surface."""
    ui_product_name: str = Field(default="authgate", min_length=1, max_length=60)
    """Shown in every page's header and title (`Sign in · Acme ID`). 1 to 60 characters, no control or format
    characters."""
    ui_locales: CsvList = ["en"]
    """Comma-separated locales the pages may use (`en,de`); the first is the default. Each one other than `en` needs a
    catalogue (shipped: `de`; others in `AUTHGATE_TEMPLATES_DIR/locales/<locale>/LC_MESSAGES/authgate.po`)."""
    ui_identifier: UiIdentifier = UiIdentifier.EMAIL
    """What the sign-in page asks for: `email`, or `username` (deployments that sign in by name or PIN)."""
    templates_dir: Path | None = None
    """A directory whose files replace the shipped ones of the same relative path: `ui/*.html`, `static/*`
    (`static/theme.css` included), `locales/<locale>/LC_MESSAGES/authgate.po`. Checked at start."""

    @field_validator("ui_product_name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if has_control_characters(value):  # C1 controls and format characters (U+202E) too
            raise ValueError("must not contain control or format characters")
        return value

    @field_validator("ui_locales")
    @classmethod
    def _locales(cls, value: list[str]) -> list[str]:
        locales = [locale.replace("-", "_") for locale in value]
        if not locales:
            raise ValueError("must name at least one locale")
        for locale in locales:
            if not LOCALE.fullmatch(locale):
                raise ValueError(f"{locale!r} is not a locale such as en, de or pt_BR")
        return locales

    @field_validator("templates_dir")
    @classmethod
    def _directory(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value
