"""The pages' one template tree: one Jinja2 Environment with autoescape and gettext.

Templates, static files and catalogues are looked up in `AUTHGATE_TEMPLATES_DIR` first, then in
the package (`authgate/templates/`), file by file. The locale is a value of each render: the
catalogue rides in the render's context (`translations`) and the environment's gettext reads it
there, so one compiled template serves every language and a request never swaps translations
under another one's feet. Everything is read and parsed at start: a template or catalogue that
does not parse, or a locale without a catalogue, stops the process with a message that names it.

The compiled templates depend only on the files, so apps built in one process (a reload, the
tests) share the environment of a template tree; Jinja2 compiles a file again when it changes
on disk, and a catalogue is read again when its file does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Template, TemplateError, pass_context
from jinja2.runtime import Context

from authgate.errors import Said
from authgate.settings import Settings

SHIPPED = Path(__file__).resolve().parent.parent / "templates"
DOMAIN = "authgate"
BUILT_IN_LOCALE = "en"


class TemplatesError(ValueError):
    """A template, catalogue or locale that cannot be used; the message names the file or locale,
    `variable` the setting to look at."""

    def __init__(self, message: str, variable: str = "AUTHGATE_TEMPLATES_DIR") -> None:
        super().__init__(message)
        self.variable = variable


_CATALOGUES: dict[tuple[Path, int], Translations] = {}  # by file and its modification time
_ENVIRONMENTS: dict[tuple[Path, ...], Environment] = {}  # by template tree (its roots, in order)


def _catalogue(path: Path) -> Translations:
    """The catalogue at `path`, compiled once per version of the file."""
    key = (path, path.stat().st_mtime_ns)
    if key not in _CATALOGUES:
        _CATALOGUES[key] = _read_catalogue(path)
    return _CATALOGUES[key]


def _read_catalogue(path: Path) -> Translations:
    try:
        with path.open("rb") as po:
            catalog = read_po(po, abort_invalid=True)
    except Exception as exc:  # babel raises several kinds; each means the file cannot be used
        raise TemplatesError(f"{path} does not parse: {exc}") from None
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _own_name(locale: str) -> str:
    try:
        name = Locale.parse(locale).get_display_name(locale)
    except (ValueError, UnknownLocaleError):
        return locale
    return name[:1].upper() + name[1:] if name else locale


def _translate(translations: NullTranslations, text: str) -> str:
    """gettext for a message from Python; a service's `Said` is translated by its message, its
    values put back after."""
    if not isinstance(text, Said):
        return translations.gettext(text)
    translated = translations.gettext(text.message)
    return translated % text.values if text.values else translated


@pass_context
def _gettext(context: Context, message: str) -> str:
    translations: NullTranslations = context["translations"]
    return translations.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    translations: NullTranslations = context["translations"]
    return translations.ngettext(singular, plural, count)


@pass_context
def _translate_in(context: Context, text: str) -> str:
    """For text that is not a template's own (a refusal's message): translated when the
    catalogue knows it, and escaped like any value (`_()` would mark it safe)."""
    return _translate(context["translations"], text)


def _environment(roots: tuple[Path, ...]) -> Environment:
    """The one environment of a template tree (see the module docstring)."""
    if roots not in _ENVIRONMENTS:
        env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(root)) for root in roots]),
            autoescape=True,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
        env.globals["translate"] = _translate_in
        _ENVIRONMENTS[roots] = env
    return _ENVIRONMENTS[roots]


@dataclass
class Pages:
    """The environment, each locale's catalogue, and where the static files are."""

    roots: tuple[Path, ...]
    locales: tuple[str, ...]
    env: Environment
    translations: dict[str, NullTranslations] = field(default_factory=dict)
    language_names: dict[str, str] = field(default_factory=dict)  # each locale in its own language
    has_logo: bool = False

    @classmethod
    def build(cls, settings: Settings) -> Pages:
        given = (settings.templates_dir, SHIPPED) if settings.templates_dir is not None else (SHIPPED,)
        roots = tuple(Path(root) for root in given)
        pages = cls(roots=roots, locales=tuple(settings.ui_locales), env=_environment(roots))
        pages.translations = {locale: pages._translations(locale) for locale in pages.locales}
        pages._parse_all()
        pages.language_names = {locale: _own_name(locale) for locale in pages.locales}
        pages.has_logo = pages.find("static/logo.svg") is not None
        return pages

    def _translations(self, locale: str) -> NullTranslations:
        path = self.find(f"locales/{locale}/LC_MESSAGES/{DOMAIN}.po")
        if path is None:
            if locale == BUILT_IN_LOCALE:
                return NullTranslations()
            raise TemplatesError(
                f"the locale {locale} has no catalogue (locales/{locale}/LC_MESSAGES/{DOMAIN}.po)",
                "AUTHGATE_UI_LOCALES",
            )
        return _catalogue(path)

    def _parse_all(self) -> None:
        env = self.env
        for name in env.list_templates(filter_func=lambda name: name.startswith("ui/") and name.endswith(".html")):
            try:
                env.get_template(name)
            except TemplateError as exc:
                raise TemplatesError(f"the template {name} does not parse: {exc}") from None

    def template(self, name: str) -> Template:
        return self.env.get_template(name)

    def render(self, locale: str, name: str, context: dict[str, Any]) -> str:
        return self.template(name).render(context, translations=self.translations[locale])

    def find(self, relative: str) -> Path | None:
        """The file at `relative` (`static/theme.css`), from the override directory first."""
        for root in self.roots:
            candidate = (root / relative).resolve()
            if candidate.is_relative_to(root.resolve()) and candidate.is_file():
                return candidate
        return None
