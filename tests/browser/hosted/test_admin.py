"""The admin console in headless Chromium (AUTHGATE_UI_ADMIN on), each page through the page
rules (tests/support/pages.py): an administrator in one browser finds a user who is signed in
in a second browser and disables the account; the user's next page load is the sign-in page, the
audit trail shows `user.disabled` and `session.revoked`, and enabling lets the user back in. Each
other action of the user's page (role, sessions, unlock, reset email, second factors, deletion
after its confirmation) and the webhooks page. A signed-in user who is not an administrator gets
the 403 page.

Screenshots of every page go to `test-artifacts/screenshots/<test>/`."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pyotp
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.support.http import STRONG_PASSWORD
from tests.support.pages import (
    HostedStack,
    PageCheck,
    fill,
    link,
    literal,
    main_text,
    notice,
    on_account_page,
    path_of,
    press,
    press_within,
    sign_in,
    wait_for_path,
)

pytestmark = pytest.mark.slow


def header_links(driver: webdriver.Chrome) -> list[str]:
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "header nav a")]


def table_rows(driver: webdriver.Chrome, caption: str) -> list[list[str]]:
    """The cells' text of each body row of the table with `caption`."""
    for table in driver.find_elements(By.CSS_SELECTOR, "main table"):
        if table.find_element(By.TAG_NAME, "caption").text == caption:
            return [
                [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
            ]
    raise AssertionError(f"no table with the caption {caption!r} on {driver.current_url}")


def test_admin_disables_a_signed_in_user(
    stack: HostedStack,
    chromium: webdriver.Chrome,
    second_chromium: webdriver.Chrome,
    check: PageCheck,
) -> None:
    admin, user = stack.account(role="admin"), stack.account()
    person = second_chromium  # the user's own browser
    sign_in(person, stack, user)
    on_account_page(person, stack, check, user, "user-signed-in")
    assert "Admin" not in header_links(person)

    sign_in(chromium, stack, admin)
    on_account_page(chromium, stack, check, admin, "admin-signed-in")
    chromium.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "Admin").click()
    wait_for_path(chromium, "/ui/admin/users")  # /ui/admin: the first section the admin may see
    check(chromium, "users")

    fill(chromium, email=user.split("@")[0])
    press(chromium, "Search", "/ui/admin/users")
    check(chromium, "search")
    rows = table_rows(chromium, "Accounts, oldest first")
    assert [row[0] for row in rows] == [user]
    assert rows[0][2:4] == ["user", "Active"]
    found = link(chromium, user)
    user_page = urlsplit(found.get_attribute("href") or "").path
    found.click()
    wait_for_path(chromium, user_page)
    check(chromium, "user")
    assert chromium.find_element(By.TAG_NAME, "h1").text == user
    assert len(table_rows(chromium, "Signed-in sessions, newest first")) == 1

    press(chromium, "Disable account", user_page)
    check(chromium, "disabled")
    assert notice(chromium) == "Account disabled."
    assert "Disabled" in main_text(chromium) and "No signed-in sessions." in main_text(chromium)

    # The user's open page: the next load is a sign-out.
    person.get(stack.url("/ui/account"))
    wait_for_path(person, "/ui/login")
    check(person, "user-signed-out")
    assert path_of(person) == "/ui/login?return_to=%2Fui%2Faccount"
    assert stack.whoami(person) is None
    sign_in(person, stack, user, then="/ui/login")
    check(person, "user-refused", status=403)
    assert "This account has been disabled." in person.find_element(By.ID, "error-summary").text
    assert person.find_element(By.ID, "password").get_attribute("aria-invalid") is None  # the summary only

    chromium.find_element(By.CSS_SELECTOR, "main a[href^='/ui/admin/audit?userId=']").click()  # the user's trail
    wait_for_path(chromium, "/ui/admin/audit")
    check(chromium, "audit")
    entries = table_rows(chromium, "Audit entries, newest first")
    types = [row[1] for row in entries]
    assert "user.disabled" in types and "session.revoked" in types, types
    disabled = entries[types.index("user.disabled")]
    assert disabled[2] == user and disabled[3] == admin  # User, Actor: emails while the accounts exist

    chromium.get(stack.url(user_page))
    press(chromium, "Enable account", user_page)
    check(chromium, "enabled")
    assert notice(chromium) == "Account enabled."
    sign_in(person, stack, user)
    on_account_page(person, stack, check, user, "user-back")


def test_a_user_who_is_not_an_administrator_gets_the_403_page(
    stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck
) -> None:
    user = stack.account()
    chromium.get(stack.url("/ui/admin"))  # anonymous: sign in first, and come back
    wait_for_path(chromium, "/ui/login")
    assert path_of(chromium) == "/ui/login?return_to=%2Fui%2Fadmin"
    fill(chromium, email=user, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/ui/admin")
    check(chromium, "forbidden", status=403)
    assert "You may not do this." in main_text(chromium)
    for path in ("/ui/admin/users", "/ui/admin/audit"):
        chromium.get(stack.url(path))
        check(chromium, path.rsplit("/", 1)[1], status=403)


def api_sign_in(stack: HostedStack, email: str) -> str:
    """A session of `email` made through the API (another device); its access token."""
    answer = httpx.post(stack.url("/login"), json={"email": email, "password": STRONG_PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["accessToken"])


def api_authenticator_app(stack: HostedStack, token: str) -> None:
    """Turn on an authenticator app for the token's account through the API."""
    bearer = {"Authorization": f"Bearer {token}"}
    setup = httpx.post(stack.url("/mfa/setup"), headers=bearer, json={})
    assert setup.status_code == 200, setup.text
    code = pyotp.TOTP(setup.json()["secret"]).now()
    enabled = httpx.post(stack.url("/mfa/enable"), headers=bearer, json={"code": code})
    assert enabled.status_code == 200, enabled.text


def fact(driver: webdriver.Chrome, term: str) -> str:
    """The text beside `term` in the user page's facts."""
    found = driver.find_element(By.XPATH, f"//main//dl/dt[normalize-space()={literal(term)}]/following-sibling::dd[1]")
    return str(found.text)


def test_each_admin_action(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    admin, user = stack.account(role="admin"), stack.account()
    first = api_sign_in(stack, user)
    api_sign_in(stack, user)
    api_authenticator_app(stack, first)
    user_id = httpx.get(stack.url("/user"), headers={"Authorization": f"Bearer {first}"}).json()["id"]
    user_page = f"/ui/admin/users/{user_id}"

    chromium.get(stack.url(user_page))  # signed out: to sign in, then back here by return_to
    wait_for_path(chromium, "/ui/login")
    fill(chromium, email=admin, password=STRONG_PASSWORD)
    press(chromium, "Sign in", user_page)
    check(chromium, "user")
    assert fact(chromium, "Second factors") == "On"

    Select(chromium.find_element(By.ID, "role")).select_by_value("admin")
    press(chromium, "Change role", user_page)
    check(chromium, "role-changed")
    assert notice(chromium) == "Role changed." and fact(chromium, "Role") == "admin"
    Select(chromium.find_element(By.ID, "role")).select_by_value("user")
    press(chromium, "Change role", user_page)
    assert fact(chromium, "Role") == "user"

    sessions = "Signed-in sessions, newest first"
    assert len(table_rows(chromium, sessions)) == 2
    first_row = chromium.find_element(By.XPATH, f"//table[caption={literal(sessions)}]/tbody/tr[1]")
    press_within(chromium, first_row, "Sign out", user_page)
    check(chromium, "one-session-signed-out")
    assert notice(chromium) == "Sessions signed out."
    assert len(table_rows(chromium, sessions)) == 1
    press(chromium, "Sign out of all sessions", user_page)
    assert "No signed-in sessions." in main_text(chromium)

    press(chromium, "Unlock", user_page)
    check(chromium, "unlocked")
    assert notice(chromium) == "Account unlocked." and fact(chromium, "Locked until (UTC)") == "Not locked"

    press(chromium, "Send password reset email", user_page)
    check(chromium, "reset-sent")
    assert notice(chromium) == "Password reset email sent."
    assert stack.mail(user, "/password/reset/")

    link(chromium, "Remove second factors…").click()
    wait_for_path(chromium, f"{user_page}/mfa/reset")
    check(chromium, "confirm-mfa-reset")
    press(chromium, "Remove second factors", user_page)
    check(chromium, "mfa-reset")
    assert notice(chromium) == "Second factors removed." and fact(chromium, "Second factors") == "Off"

    link(chromium, "Delete account…").click()
    wait_for_path(chromium, f"{user_page}/delete")
    check(chromium, "confirm-delete")
    fill(chromium, email="someone-else@example.com")
    press(chromium, "Delete account", f"{user_page}/delete")
    check(chromium, "delete-refused", status=400)
    assert chromium.find_element(By.ID, "email").get_attribute("aria-invalid") == "true"
    fill(chromium, email=user)
    press(chromium, "Delete account", "/ui/admin/users")
    check(chromium, "deleted")
    assert notice(chromium) == "Account deleted."
    assert user not in main_text(chromium)

    link(chromium, "Webhooks").click()
    wait_for_path(chromium, "/ui/admin/webhooks")
    check(chromium, "webhooks")
    assert table_rows(chromium, "Webhooks and their latest deliveries") == [["No webhooks."]]
