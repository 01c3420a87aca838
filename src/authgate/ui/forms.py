"""Forms: reading a posted form, and turning a refusal into the errors a page shows again.

A refusal keeps the API's status and code. Errors about a field are tied to it (the page links
the summary's item to it and describes the field by it); the rest go in the summary only. A
wrong password and an unknown account read alike (`invalid_credentials` on the secret field)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from authgate.errors import AuthError, ErrorCode
from authgate.http.forms import FORM_TYPE, RepeatedField, UnreadableForm, form_fields, is_form
from authgate.ui.messages import problem_text

MAX_FIELDS = 64
SECRET_FIELDS = frozenset({"password", "currentPassword", "code", "credential", "secret", "csrf_token"})


class BadForm(ValueError):
    pass


class NotAForm(BadForm):
    """A body of another type (JSON, multipart): a 415, not an expired form."""


@dataclass
class FormErrors:
    summary: list[tuple[str | None, str]] = field(default_factory=list)  # (the field it is about, message)
    fields: dict[str, str] = field(default_factory=dict)
    status: int = 400
    code: str | None = None

    def __bool__(self) -> bool:
        return bool(self.summary)

    def add(self, message: str, on: str | None = None) -> None:
        if on is not None and on not in self.fields:
            self.fields[on] = message
        self.summary.append((on, message))


def errors_of(exc: AuthError, *, on_form: frozenset[str] | set[str], secret_field: str = "password") -> FormErrors:  # noqa: S107
    """The errors to show for `exc` on a form with the fields `on_form`."""
    found = FormErrors(status=exc.status, code=exc.code.value)
    message = problem_text(exc.code.value) or exc.detail or exc.title
    if exc.code == ErrorCode.INVALID_CREDENTIALS:
        found.add(message, secret_field if secret_field in on_form else None)
    elif exc.code == ErrorCode.INVALID_MFA_CODE:
        found.add(message, "code" if "code" in on_form else None)
    elif exc.errors:
        for error in exc.errors:
            name = error.field if error.field in on_form else None
            found.add(error.message, name)
    else:
        found.add(message)
    return found


def one_error(message: str, *, on: str | None = None, status: int = 400) -> FormErrors:
    found = FormErrors(status=status)
    found.add(message, on)
    return found


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields; a field given twice, or a body that is not a form in UTF-8, is refused."""
    body = await request.body()
    if not body:
        return {}
    if not is_form(request):
        raise NotAForm(f"not {FORM_TYPE}")
    try:
        return form_fields(body, max_fields=MAX_FIELDS)
    except UnreadableForm:
        raise BadForm("not a form") from None
    except RepeatedField:
        raise BadForm("a field appears twice") from None


def kept(form: dict[str, str]) -> dict[str, str]:
    """The values a form shows again after a refusal: everything but secrets."""
    return {name: value for name, value in form.items() if name not in SECRET_FIELDS}
