"""The anonymous hosted pages in headless Chromium: every one of them passes the page rules
(tests/support/pages.py: markup, headers, console, axe-core); forgot → mailed link → reset →
sign in with the new password; a magic link; signing in with the keyboard alone; a wrong
password tied to its field; a form whose CSRF cookie is gone.

Screenshots of every page go to `test-artifacts/screenshots/<test>/`."""

from __future__ import annotations

import re

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.support.http import STRONG_PASSWORD
from tests.support.pages import (
    HostedStack,
    PageCheck,
    fill,
    link,
    locales,
    main_text,
    new_email,
    notice,
    on_account_page,
    path_of,
    press,
    sign_in,
    wait_for_path,
)

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Brand-New-Horse-77"
WRONG = "The email or password is not right."


def test_every_anonymous_page_keeps_the_rules(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    pages = [
        ("/ui/login", 200, "Sign in"),
        ("/ui/login?login_hint=ada%40example.com&error=oauth_denied", 200, "Sign in"),
        ("/ui/register", 200, "Create an account"),
        ("/ui/forgot", 200, "Forgot your password?"),
        ("/ui/forgot/sent", 200, "Check your email"),
        ("/ui/magic-link", 200, "Sign in with a link"),
        ("/ui/magic-link/sent", 200, "Check your email"),
        ("/ui/magic-link/not-a-token", 200, "Continue signing in"),  # a GET never uses the link
        ("/ui/verify-email", 200, "Check your email"),
        ("/ui/verify-email/not-a-token", 400, "This link does not work"),
        ("/ui/reset/not-a-token", 400, "This link does not work"),
        ("/ui/logout", 200, "Sign out?"),
        ("/ui/error?code=account_locked", 429, "Something went wrong"),
        ("/ui/error?code=no_such_code", 400, "Something went wrong"),
        ("/ui/no/such/page", 404, "Something went wrong"),
    ]
    for path, status, heading in pages:
        chromium.get(stack.url(path))
        check(chromium, path.strip("/").replace("/", "-"), status=status)
        assert chromium.find_element(By.TAG_NAME, "h1").text == heading, path

    # A failed social sign-in comes back with its problem code, shown in the summary only.
    chromium.get(stack.url("/ui/login?login_hint=ada%40example.com&error=oauth_denied"))
    assert chromium.find_element(By.ID, "error-summary").text.endswith("The sign-in with the provider was cancelled.")
    assert chromium.find_element(By.ID, "email").get_attribute("value") == "ada@example.com"

    # No second step pending: the second-step page sends the browser to sign in.
    chromium.get(stack.url("/ui/mfa"))
    wait_for_path(chromium, "/ui/login")

    if "de" in locales().split(","):
        chromium.get(stack.url("/ui/login?lang=de"))
        check(chromium, "login-de", lang="de")
        chromium.get(stack.url("/ui/register"))  # the language cookie wins from now on
        check(chromium, "register-de", lang="de")


def test_forgot_reset_and_sign_in_with_the_new_password(
    stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck
) -> None:
    email = stack.account()
    chromium.get(stack.url("/ui/login"))
    link(chromium, "Forgot your password?").click()
    wait_for_path(chromium, "/ui/forgot")
    check(chromium, "forgot")
    fill(chromium, email=email)
    press(chromium, "Send the link", "/ui/forgot/sent")
    check(chromium, "sent")

    mailed = stack.mail(email, "/password/reset/")
    token = mailed.rsplit("/", 1)[1]
    chromium.get(mailed)  # the mailed API link sends a browser on to the page
    wait_for_path(chromium, f"/ui/reset/{token}")
    check(chromium, "reset")
    fill(chromium, password=NEW_PASSWORD)
    press(chromium, "Set the new password", "/ui/login")
    check(chromium, "login-after-reset")
    assert path_of(chromium) == "/ui/login?notice=password_reset"
    assert notice(chromium).startswith("Your password has been changed.")

    fill(chromium, email=email, password=NEW_PASSWORD)
    press(chromium, "Sign in", "/ui/account")
    on_account_page(chromium, stack, check, email, "signed-in")
    old = httpx.post(stack.url("/login"), json={"email": email, "password": STRONG_PASSWORD})
    assert old.status_code == 401, old.text

    chromium.get(mailed)  # the link worked once
    wait_for_path(chromium, f"/ui/reset/{token}")
    check(chromium, "reset-link-used", status=400)
    assert chromium.find_element(By.TAG_NAME, "h1").text == "This link does not work"


def test_magic_link_signs_in_after_continue(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    email = stack.account()
    chromium.get(stack.url("/ui/login"))
    link(chromium, "Email me a sign-in link").click()
    wait_for_path(chromium, "/ui/magic-link")
    check(chromium, "magic-link")
    fill(chromium, email=email)
    press(chromium, "Send the link", "/ui/magic-link/sent")
    check(chromium, "sent")

    mailed = stack.mail(email, "/login/magic/")
    token = mailed.rsplit("/", 1)[1]
    chromium.get(mailed)
    wait_for_path(chromium, f"/ui/magic-link/{token}")
    check(chromium, "continue")
    assert stack.whoami(chromium) is None  # opening the link used nothing
    press(chromium, "Continue", "/ui/account")
    on_account_page(chromium, stack, check, email, "signed-in")


def keys(driver: webdriver.Chrome, *pressed: str) -> None:
    """Key presses to whatever has the focus, as a person at the keyboard."""
    ActionChains(driver).send_keys(*pressed).perform()


def shift_tab(driver: webdriver.Chrome) -> None:
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()


FOCUS_RING = """
const el = arguments[0], style = getComputedStyle(el);
const primary = getComputedStyle(document.documentElement).getPropertyValue("--authgate-primary").trim();
return { visible: el.matches(":focus-visible"), width: parseFloat(style.outlineWidth), style: style.outlineStyle,
         color: style.outlineColor, primary: primary,
         shown: el.checkVisibility() && el.getBoundingClientRect().width > 0 };
"""


def focused(driver: webdriver.Chrome, what: str) -> WebElement:
    """The element with the focus, checked to show a visible focus ring in the primary colour."""
    element = driver.switch_to.active_element
    ring = driver.execute_script(FOCUS_RING, element)
    assert ring["visible"] and ring["shown"], f"{what}: no visible focus ({ring})"
    assert ring["width"] >= 2 and ring["style"] not in ("none", "hidden"), f"{what}: focus outline {ring}"
    assert _rgb(ring["color"]) == _rgb(ring["primary"]), (
        f"{what}: focus outline {ring['color']}, not the primary colour"
    )
    return element


def _rgb(colour: str) -> tuple[int, ...]:
    """`rgb(26, 86, 219)` or `#1a56db` as numbers."""
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(part) for part in re.findall(r"\d+", colour)[:3])


def test_keyboard_only_sign_in(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    email = stack.account()
    chromium.get(stack.url("/ui/login"))
    check(chromium, "login")
    assert chromium.switch_to.active_element.get_attribute("id") == "email"  # the identifier has autofocus

    # Backwards from there: the header's link, the skip link, then out of the page: nothing
    # focusable comes before the skip link.
    shift_tab(chromium)
    assert focused(chromium, "brand").get_attribute("href") == stack.url("/ui/")
    shift_tab(chromium)
    assert focused(chromium, "skip link").text == "Skip to content"
    shift_tab(chromium)
    assert chromium.execute_script("return document.activeElement === document.body")  # left the page

    # Into the page again, as from the address bar: the skip link comes first, and it leads to
    # <main>, whose first stop is the identifier; then the password, then "Sign in".
    keys(chromium, Keys.TAB)
    skip = focused(chromium, "skip link")
    assert skip.text == "Skip to content" and skip.get_attribute("href") == stack.url("/ui/login#main")
    keys(chromium, Keys.ENTER)
    assert chromium.switch_to.active_element.get_attribute("id") == "main"
    keys(chromium, Keys.TAB)
    assert focused(chromium, "email").get_attribute("id") == "email"
    keys(chromium, email, Keys.TAB)
    assert focused(chromium, "password").get_attribute("id") == "password"
    keys(chromium, STRONG_PASSWORD, Keys.TAB)
    sign_in_button = focused(chromium, "Sign in")
    assert sign_in_button.tag_name == "button" and sign_in_button.text == "Sign in"
    keys(chromium, Keys.ENTER)
    on_account_page(chromium, stack, check, email, "signed-in")


def test_wrong_password_is_tied_to_the_password_field(
    stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck
) -> None:
    email = stack.account()
    for who, step in ((email, "wrong-password"), (new_email(), "unknown-account")):
        chromium.get(stack.url("/ui/login"))
        fill(chromium, email=who, password="Not-The-Password-1")
        press(chromium, "Sign in", "/ui/login")
        check(chromium, step, status=401)
        summary = chromium.find_element(By.ID, "error-summary")
        assert chromium.switch_to.active_element == summary  # autofocus: read first
        assert summary.get_attribute("role") == "alert"
        (item,) = summary.find_elements(By.CSS_SELECTOR, "li")
        assert item.text == WRONG  # the same words for a wrong password and an unknown account
        assert item.find_element(By.TAG_NAME, "a").get_attribute("href") == stack.url("/ui/login#password")
        password = chromium.find_element(By.ID, "password")
        assert password.get_attribute("aria-invalid") == "true"
        assert password.get_attribute("aria-describedby") == "password-error"
        assert password.get_attribute("value") == ""  # secrets are not shown again
        assert chromium.find_element(By.ID, "password-error").text == WRONG
        assert chromium.find_element(By.ID, "email").get_attribute("value") == who
        assert chromium.find_element(By.ID, "email").get_attribute("aria-invalid") is None

    # The summary's link takes the keyboard to the field.
    keys(chromium, Keys.TAB)
    assert chromium.switch_to.active_element.get_attribute("href") == stack.url("/ui/login#password")
    keys(chromium, Keys.ENTER)
    assert chromium.switch_to.active_element.get_attribute("id") == "password"
    keys(chromium, STRONG_PASSWORD)
    fill(chromium, email=email)
    press(chromium, "Sign in", "/ui/account")
    on_account_page(chromium, stack, check, email, "signed-in")


def test_a_form_without_its_csrf_cookie_is_refused(
    stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck
) -> None:
    email = stack.account()
    chromium.get(stack.url("/ui/login"))
    assert chromium.get_cookie("authgate-csrf") is not None
    chromium.delete_cookie("authgate-csrf")
    fill(chromium, email=email, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/ui/login")
    check(chromium, "expired-form", status=403)
    assert "This form has expired. Reload the page and try again." in main_text(chromium)
    assert stack.whoami(chromium) is None

    sign_in(chromium, stack, email)  # a new page: a new cookie and token
    on_account_page(chromium, stack, check, email, "signed-in")
