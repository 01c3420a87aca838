"""What every page route takes: the page (`PageDep`), a signed-in page (`AccountPage`), and a
posted form that passed both CSRF checks (`Posted`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from authgate.core.principal import Principal
from authgate.ui import csrf
from authgate.ui.forms import BadForm, NotAForm, one_error, read_form
from authgate.ui.messages import PROBLEMS
from authgate.ui.page import Page, PageAnswer, open_page

PageDep = Annotated[Page, Depends(open_page)]


async def account_page(page: PageDep) -> Page:
    """A page for the signed-in only: others are sent to sign in, and back here after."""
    if page.viewer is None:
        raise page.to_login()
    return page


AccountPage = Annotated[Page, Depends(account_page)]


@dataclass
class Form:
    page: Page
    fields: dict[str, str]

    def get(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if value else None

    @property
    def viewer(self) -> Principal:
        """For routes behind `account_form`: the signed-in caller."""
        assert self.page.viewer is not None
        return self.page.viewer


def refused(page: Page) -> PageAnswer:
    return PageAnswer(page.render("ui/error.html", status=403, errors=one_error(PROBLEMS["csrf"], status=403)))


def unreadable(page: Page, exc: BadForm) -> PageAnswer:
    """A body the page cannot take: another type than a form is a 415; a broken form (not
    UTF-8, a field twice) reads as an expired one."""
    if isinstance(exc, NotAForm):
        problem = PROBLEMS["unsupported_media_type"]
        return PageAnswer(page.render("ui/error.html", status=415, errors=one_error(problem, status=415)))
    return refused(page)


async def posted_form(request: Request, page: PageDep) -> Form:
    """The form, once it passed the Origin / Sec-Fetch-Site check and the signed token."""
    try:
        fields = await read_form(request)
    except BadForm as exc:
        raise unreadable(page, exc) from None
    if not passes_csrf(page, fields):
        raise refused(page)
    return Form(page=page, fields=fields)


def passes_csrf(page: Page, fields: dict[str, str]) -> bool:
    """Both checks of ui/csrf.py: the request's origin, and the form's signed token."""
    session_id = page.viewer.session_id if page.viewer is not None else None
    return csrf.from_our_pages(page.request.headers, page.settings) and csrf.token_matches(
        page.settings, cookie_value=page.csrf_cookie, session_id=session_id, token=fields.get(csrf.FIELD)
    )


Posted = Annotated[Form, Depends(posted_form)]


async def account_form(form: Posted) -> Form:
    if form.page.viewer is None:
        raise form.page.to_login()
    return form


AccountForm = Annotated[Form, Depends(account_form)]
