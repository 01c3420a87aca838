"""The account pages in headless Chromium, each page through the page rules
(tests/support/pages.py): register → the verification mail → sign in → an authenticator app →
recovery codes → sign out → the second step, by the app and by a recovery code; new recovery
codes; the app turned off; a passkey added on the passkeys page with the DevTools virtual
authenticator, signing in with it (the button and the identifier's autofill), renamed and
deleted; the sessions page signing out another browser; details, the password change (a wrong
current password tied to its field) and the linked accounts page.

Screenshots of every page go to `test-artifacts/screenshots/<test>/`."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.support.browser import remove_authenticator, touched_at_once, virtual_authenticator
from tests.support.http import STRONG_PASSWORD
from tests.support.pages import (
    HostedStack,
    PageCheck,
    button,
    eventually,
    fill,
    link,
    literal,
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


def nav(driver: webdriver.Chrome, text: str, then: str) -> None:
    """Follow the link that says `text` (in <main> or the header) to the page at `then`."""
    found = driver.find_elements(By.XPATH, f"//a[normalize-space()={literal(text)}]")
    assert found, f"no link says {text!r} on {driver.current_url}"
    found[0].click()
    wait_for_path(driver, then)


def sign_out(driver: webdriver.Chrome, check: PageCheck) -> None:
    """The header's "Sign out" link, then the confirmation's button."""
    driver.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "Sign out").click()
    wait_for_path(driver, "/ui/logout")
    check(driver, "sign-out")
    press(driver, "Sign out", "/ui/login")
    check(driver, "signed-out")
    assert notice(driver) == "You have signed out."
    assert {c["name"] for c in driver.get_cookies()} & {"accessToken", "refreshToken"} == set()


def test_register_verify_totp_sign_out_and_second_step(
    stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck
) -> None:
    email = new_email()
    chromium.get(stack.url("/ui/login"))
    link(chromium, "Create an account").click()
    wait_for_path(chromium, "/ui/register")
    check(chromium, "register")
    fill(chromium, email=email, password=STRONG_PASSWORD, name="Ada Lovelace")
    press(chromium, "Create account", "/ui/verify-email")  # verification is required: no session yet
    check(chromium, "check-your-email")
    assert stack.whoami(chromium) is None

    mailed = stack.mail(email, "/email/verify/")
    token = mailed.rsplit("/", 1)[1]
    chromium.get(mailed)  # the mailed API link sends a browser on to the page
    wait_for_path(chromium, f"/ui/verify-email/{token}")
    check(chromium, "verified")
    assert chromium.find_element(By.TAG_NAME, "h1").text == "Your email address is verified"
    assert stack.whoami(chromium) is None  # the link signs no one in
    link(chromium, "Sign in").click()
    wait_for_path(chromium, "/ui/login")
    check(chromium, "login")
    fill(chromium, email=email, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/ui/account")
    on_account_page(chromium, stack, check, email, "account")
    assert "Verified" in main_text(chromium)
    assert chromium.find_element(By.ID, "name").get_attribute("value") == "Ada Lovelace"

    # The authenticator app: the page's setup key is all the app needs.
    nav(chromium, "Second factors", "/ui/account/mfa")
    check(chromium, "factors")
    assert chromium.find_element(By.ID, "factor-totp").text.startswith("Authenticator app Off")
    nav(chromium, "Set up", "/ui/account/mfa/totp")
    check(chromium, "totp-setup")
    qr = chromium.find_element(By.CSS_SELECTOR, "main img")
    assert qr.get_attribute("alt") == "QR code for your authenticator app"
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    assert chromium.execute_script("return arguments[0].naturalWidth", qr) > 0  # img-src allows data:
    secret_box = chromium.find_element(By.ID, "secret")
    assert secret_box.get_attribute("readonly") is not None
    app = pyotp.TOTP(secret_box.get_attribute("value") or "")
    enabled_at = time.time()
    fill(chromium, code=app.at(enabled_at))
    press(chromium, "Turn on", "/ui/account/mfa/totp")  # 200: the recovery codes, shown once
    check(chromium, "recovery-codes")
    codes = [item.text for item in chromium.find_elements(By.CSS_SELECTOR, "ol#recovery-codes > li")]
    assert len(codes) >= 8 and len(set(codes)) == len(codes), codes
    nav(chromium, "Done", "/ui/account/mfa")
    check(chromium, "factors-on")
    assert chromium.find_element(By.ID, "factor-totp").text.startswith("Authenticator app On")
    assert f"{len(codes)} left" in chromium.find_element(By.ID, "factor-recovery").text

    sign_out(chromium, check)
    fill(chromium, email=email, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/ui/mfa")
    check(chromium, "second-step")
    assert stack.whoami(chromium) is None
    assert chromium.find_element(By.ID, "code").get_attribute("autocomplete") == "one-time-code"
    # The app's next code: the one of the setup's time step was used by turning it on.
    fill(chromium, code=app.at(enabled_at + app.interval))
    press(chromium, "Continue", "/ui/account")
    on_account_page(chromium, stack, check, email, "signed-in-with-the-app")

    # A recovery code instead, once.
    sign_out(chromium, check)
    fill(chromium, email=email, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/ui/mfa")
    fill(chromium, code=codes[0])
    press(chromium, "Continue", "/ui/account")
    on_account_page(chromium, stack, check, email, "signed-in-with-a-recovery-code")
    chromium.get(stack.url("/ui/account/mfa/recovery-codes"))
    check(chromium, "codes-left")
    assert chromium.find_element(By.ID, "codes-left").text == f"You have {len(codes) - 1} recovery codes left."

    sign_out(chromium, check)
    fill(chromium, email=email, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/ui/mfa")
    fill(chromium, code=codes[0])
    press(chromium, "Continue", "/ui/mfa")
    check(chromium, "recovery-code-used-twice", status=401)
    assert chromium.find_element(By.ID, "code").get_attribute("aria-invalid") == "true"
    assert stack.whoami(chromium) is None


@pytest.fixture
def authenticator(chromium: webdriver.Chrome) -> Iterator[str]:
    """A DevTools virtual authenticator in the shared browser (ctap2, internal, resident keys,
    user verification), taken out after the test with its passkeys."""
    made = virtual_authenticator(chromium)
    try:
        yield made
    finally:
        remove_authenticator(chromium, made)


def held(driver: webdriver.Chrome, authenticator: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = driver.execute_cdp_cmd("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    return found


def access_claims(driver: webdriver.Chrome) -> dict[str, Any]:
    """The claims of the browser's access token (unverified: the server checks it)."""
    token = {c["name"]: c["value"] for c in driver.get_cookies()}["accessToken"]
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_add_a_passkey_then_sign_in_with_it(
    stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck, authenticator: str
) -> None:
    email = stack.account()
    sign_in(chromium, stack, email)
    on_account_page(chromium, stack, check, email, "account")
    nav(chromium, "Passkeys", "/ui/account/passkeys")
    check(chromium, "passkeys-none")
    assert "You have no passkeys yet." in main_text(chromium)

    fill(chromium, name="Laptop")
    add = button(chromium, "Add a passkey")
    assert add.get_attribute("data-passkey") == "register" and add.is_displayed()  # passkey.js showed it
    press(chromium, "Add a passkey", "/ui/account/passkeys")
    check(chromium, "passkey-added")
    assert notice(chromium) == "The passkey has been added."
    (row,) = chromium.find_elements(By.CSS_SELECTOR, "table#passkeys tbody tr")
    assert row.find_elements(By.TAG_NAME, "td")[0].text == "Laptop"
    assert row.find_elements(By.TAG_NAME, "td")[2].text == "Never"
    (credential,) = held(chromium, authenticator)
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    # Signed out, the sign-in page asks for a passkey in the identifier's autofill; no one picks
    # one (the authenticator waits), so the button must end that request and start its own.
    touched_at_once(chromium, authenticator, False)
    sign_out(chromium, check)
    passkey_button = button(chromium, "Sign in with a passkey")
    assert passkey_button.get_attribute("data-passkey") == "login" and passkey_button.is_displayed()
    touched_at_once(chromium, authenticator, True)
    press(chromium, "Sign in with a passkey", "/ui/account")
    on_account_page(chromium, stack, check, email, "signed-in-with-the-passkey")
    claims = access_claims(chromium)
    assert claims["amr"] == ["hwk"]  # a passkey alone
    (used,) = held(chromium, authenticator)
    assert used["signCount"] > credential["signCount"]
    chromium.get(stack.url("/ui/account/passkeys"))
    check(chromium, "passkey-used")
    (row,) = chromium.find_elements(By.CSS_SELECTOR, "table#passkeys tbody tr")
    assert row.find_elements(By.TAG_NAME, "td")[2].text != "Never"

    # The autofill (conditional UI): the authenticator answers the sign-in page's own request at
    # once, as a person who picks the passkey from the email box's list.
    chromium.get(stack.url("/ui/logout"))
    press(chromium, "Sign out", "/ui/account")  # through /ui/login, which signs in by itself
    on_account_page(chromium, stack, check, email, "signed-in-from-the-autofill")
    assert access_claims(chromium)["sid"] != claims["sid"]

    # Rename, then delete: the page's own forms, no script.
    chromium.get(stack.url("/ui/account/passkeys"))
    link(chromium, "Rename").click()
    check(chromium, "rename")
    assert "Now called: Laptop" in main_text(chromium)
    fill(chromium, name="Work laptop")
    press(chromium, "Rename", "/ui/account/passkeys")
    check(chromium, "renamed")
    assert notice(chromium) == "The passkey has been renamed."
    (row,) = chromium.find_elements(By.CSS_SELECTOR, "table#passkeys tbody tr")
    assert row.find_elements(By.TAG_NAME, "td")[0].text == "Work laptop"
    press(chromium, "Delete", "/ui/account/passkeys")
    check(chromium, "deleted")
    assert notice(chromium) == "The passkey has been removed."
    assert "You have no passkeys yet." in main_text(chromium)


def test_sessions_page_signs_out_another_browser(
    stack: HostedStack,
    chromium: webdriver.Chrome,
    second_chromium: webdriver.Chrome,
    check: PageCheck,
) -> None:
    email = stack.account()
    sign_in(second_chromium, stack, email)
    on_account_page(second_chromium, stack, check, email, "other-browser")
    sign_in(chromium, stack, email)
    on_account_page(chromium, stack, check, email, "this-browser")

    nav(chromium, "Sessions", "/ui/account/sessions")
    check(chromium, "sessions")
    rows = chromium.find_elements(By.CSS_SELECTOR, "table#sessions tbody tr")
    assert len(rows) == 2
    assert ["This device" in row.text for row in rows].count(True) == 1
    assert all("Chrome" in row.text or "Chromium" in row.text for row in rows), [row.text for row in rows]
    press(chromium, "Sign out of all other sessions", "/ui/account/sessions")
    check(chromium, "others-signed-out")
    assert notice(chromium) == "Every other session has been signed out."
    assert len(chromium.find_elements(By.CSS_SELECTOR, "table#sessions tbody tr")) == 1

    second_chromium.get(stack.url("/ui/account/sessions"))
    wait_for_path(second_chromium, "/ui/login")
    check(second_chromium, "other-browser-signed-out")
    assert path_of(second_chromium) == "/ui/login?" + "return_to=%2Fui%2Faccount%2Fsessions"
    eventually(lambda: stack.whoami(second_chromium) is None, "the other browser's cookies gone")
    assert stack.whoami(chromium) == email


def test_details_password_and_linked_accounts(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    email = stack.account()
    sign_in(chromium, stack, email)
    on_account_page(chromium, stack, check, email, "account")
    fill(chromium, name="Grace Hopper")
    press(chromium, "Save", "/ui/account")
    check(chromium, "saved")
    assert notice(chromium) == "Your details have been saved."
    assert chromium.find_element(By.ID, "name").get_attribute("value") == "Grace Hopper"

    nav(chromium, "Password", "/ui/account/password")
    check(chromium, "password")
    fill(chromium, currentPassword="Not-The-Password-1", password=NEW_PASSWORD)
    press(chromium, "Change password", "/ui/account/password")
    check(chromium, "wrong-current-password", status=401)
    current = chromium.find_element(By.ID, "currentPassword")
    assert current.get_attribute("aria-invalid") == "true" and current.get_attribute("value") == ""
    fill(chromium, currentPassword=STRONG_PASSWORD, password=NEW_PASSWORD)
    press(chromium, "Change password", "/ui/account")
    check(chromium, "password-changed")
    assert notice(chromium) == "Your password has been changed."
    sign_out(chromium, check)
    sign_in(chromium, stack, email, NEW_PASSWORD)
    on_account_page(chromium, stack, check, email, "signed-in-with-the-new-password")

    nav(chromium, "Linked accounts", "/ui/account/linked")
    check(chromium, "linked")
    assert "No account of another provider is linked." in main_text(chromium)


def totp_on(driver: webdriver.Chrome, stack: HostedStack, check: PageCheck) -> list[str]:
    """Turn on an authenticator app on its page; the recovery codes shown."""
    driver.get(stack.url("/ui/account/mfa/totp"))
    check(driver, "totp-setup")
    app = pyotp.TOTP(driver.find_element(By.ID, "secret").get_attribute("value") or "")
    fill(driver, code=app.now())
    press(driver, "Turn on", "/ui/account/mfa/totp")
    check(driver, "recovery-codes")
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "ol#recovery-codes > li")]


def test_the_app_turned_off(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    email = stack.account()
    sign_in(chromium, stack, email)
    codes = totp_on(chromium, stack, check)

    chromium.get(stack.url("/ui/account/mfa/disable"))
    check(chromium, "turn-off")
    fill(chromium, code="000000")
    press(chromium, "Turn off", "/ui/account/mfa/disable")
    check(chromium, "wrong-code", status=401)
    assert chromium.find_element(By.ID, "code").get_attribute("aria-invalid") == "true"
    fill(chromium, code=codes[0])
    press(chromium, "Turn off", "/ui/account/mfa")
    check(chromium, "turned-off")
    assert notice(chromium) == "The authenticator app has been turned off."
    assert chromium.find_element(By.ID, "factor-totp").text.startswith("Authenticator app Off")


def test_new_recovery_codes(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    email = stack.account()
    sign_in(chromium, stack, email)
    first = totp_on(chromium, stack, check)

    chromium.get(stack.url("/ui/account/mfa/recovery-codes"))
    check(chromium, "codes-left")
    fill(chromium, code=first[0])
    press(chromium, "Make new codes", "/ui/account/mfa/recovery-codes")  # 200: the new codes, once
    check(chromium, "new-codes")
    second = [item.text for item in chromium.find_elements(By.CSS_SELECTOR, "ol#recovery-codes > li")]
    assert len(second) == len(first) and not set(second) & set(first)
    chromium.get(stack.url("/ui/account/mfa/recovery-codes"))
    check(chromium, "codes-left-after")
    assert chromium.find_element(By.ID, "codes-left").text == f"You have {len(second)} recovery codes left."


def test_codes_by_email_turned_on_and_off(stack: HostedStack, chromium: webdriver.Chrome, check: PageCheck) -> None:
    email = stack.account()
    sign_in(chromium, stack, email)
    chromium.get(stack.url("/ui/account/mfa"))
    chromium.find_element(By.ID, "factor-code").find_element(By.LINK_TEXT, "Set up").click()
    wait_for_path(chromium, "/ui/account/mfa/code")
    check(chromium, "codes-where")
    press(chromium, "Send a code", "/ui/account/mfa/code")
    check(chromium, "codes-enter")
    assert notice(chromium) == "A code is on its way."
    fill(chromium, code=stack.code(email, 1))
    press(chromium, "Turn on", "/ui/account/mfa")
    check(chromium, "codes-on")
    assert chromium.find_element(By.ID, "factor-code").text.startswith("One-time code by email or SMS On, by email")

    chromium.find_element(By.ID, "factor-code").find_element(By.LINK_TEXT, "Turn off").click()
    wait_for_path(chromium, "/ui/account/mfa/code/disable")
    check(chromium, "codes-off")
    press(chromium, "Send me a code", "/ui/account/mfa/code/disable")
    fill(chromium, code=stack.code(email, 2))
    press(chromium, "Turn off", "/ui/account/mfa")
    check(chromium, "codes-turned-off")
    assert notice(chromium) == "Codes by email or SMS have been turned off."
