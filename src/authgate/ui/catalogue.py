"""The pages' message catalogue: every string of the templates (`_()`, `{% trans %}`) and of the
Python that marks them (`N_()`, `said()`), extracted with Babel into
`templates/locales/authgate.pot`. A page also shows the messages a service refuses a form with:
a `FieldError`'s message (also one given to `conflict()`, or by a body's schema as a
`PydanticCustomError`) is extracted where it is a literal; one with values is a `said()`.

`python -m authgate.ui.catalogue` writes the template and merges it into each shipped catalogue
(new messages come in empty, gone ones are marked obsolete); `make messages` runs it. A test
checks that the shipped template lists exactly what the code uses.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from authgate import __version__
from authgate.ui.templating import DOMAIN, SHIPPED

PACKAGE = SHIPPED.parent
TEMPLATE = SHIPPED / "locales" / f"{DOMAIN}.pot"
METHODS = [
    ("templates/ui/**.html", "jinja2"),
    ("ui/**.py", "python"),
    # the services' refusals a page shows (forms.errors_of); these few refuse only API calls
    ("services/webhooks.py", "ignore"),
    ("services/oauth2/clients.py", "ignore"),
    ("services/admin/roles.py", "ignore"),
    ("services/admin/import*.py", "ignore"),
    ("security/text.py", "ignore"),
    ("services/**.py", "python"),
    ("signin/**.py", "python"),
    ("methods/**.py", "python"),
    ("security/**.py", "python"),
    ("http/schemas/**.py", "python"),
]
OPTIONS = {"templates/ui/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "said": None,
    "FieldError": (2,),
    "conflict": (3,),
    "PydanticCustomError": (2,),
}


HEADER = "# Messages of authgate's hosted pages (docs/hosted-pages.md#languages)."


def extract() -> Catalog:
    catalog = Catalog(project="authgate", version=__version__, domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(PACKAGE), METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments)
    return catalog


def shipped_locales() -> list[Path]:
    return sorted((SHIPPED / "locales").glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def write() -> None:
    catalog = extract()
    with TEMPLATE.open("wb") as out:
        write_po(out, catalog, omit_header=True, sort_output=True, width=100)
    for path in shipped_locales():
        with path.open("rb") as existing:
            translated = read_po(existing, locale=path.parent.parent.name, domain=DOMAIN)
        translated.update(catalog)
        translated.project, translated.version = "authgate", __version__
        translated.header_comment = HEADER
        with path.open("wb") as out:
            write_po(out, translated, omit_header=False, sort_output=True, width=100, ignore_obsolete=True)


if __name__ == "__main__":
    write()
