"""Passkeys in a real browser, through the example app (examples/spa): authgate serves on
`http://localhost:PORT` (so the relying party is `localhost`), the app on another port (another
origin, allowed by AUTHGATE_CORS_ORIGINS and AUTHGATE_PASSKEY_ORIGINS), and headless Chromium
carries a DevTools virtual authenticator (a platform authenticator that holds discoverable
credentials, verifies the user and is touched at once). The person signs in with a password, adds
a passkey, signs out, and signs in again with the "Sign in with a passkey" button; then once more
through the email box's autofill (conditional UI).

Each step's screenshot is kept in `test-artifacts/screenshots/<test>/` (the `screenshot`
fixture), with `99-end.png`, the page as the test left it (where a step failed, if one did)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.support.browser import example_stack, fill, status_says, touched_at_once, virtual_authenticator
from tests.support.http import STRONG_PASSWORD
from tests.support.server import free_port, run_authgate, wait

pytestmark = pytest.mark.slow

EMAIL = "ada@example.com"

# Records each WebAuthn request the page makes and how it ended, so the test can tell which of
# the page's two ways in (the button or the autofill) signed the person in.
RECORD_CEREMONIES = """
window.ceremonies = [];
const get = navigator.credentials.get.bind(navigator.credentials);
navigator.credentials.get = (options) => {
  const entry = { mediation: options.mediation, outcome: "pending" };
  window.ceremonies.push(entry);
  return get(options).then(
    (credential) => { entry.outcome = "credential"; return credential; },
    (error) => { entry.outcome = error.name; throw error; });
};
"""


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """authgate and the example app on two free ports of `localhost`; their URLs and settings."""
    auth_port, app_port = free_port(), free_port()
    auth, app = f"http://localhost:{auth_port}", f"http://localhost:{app_port}"
    settings = {
        "AUTHGATE_PUBLIC_URL": auth,  # AUTHGATE_PASSKEY_RP_ID unset: its host, `localhost`
        "AUTHGATE_CORS_ORIGINS": app,
        "AUTHGATE_PASSKEY_ORIGINS": app,
        "AUTHGATE_REDIRECT_ALLOWLIST": app,
    }
    with example_stack(tmp_path, auth_port=auth_port, app_port=app_port, settings=settings):
        yield auth, app, settings


def through_page(driver: webdriver.Chrome, method: str, path: str) -> dict[str, Any]:
    """`call(method, path)` of the app's own script: with its cookies, from its origin."""
    answer: dict[str, Any] = driver.execute_async_script(
        "call(arguments[0], arguments[1]).then(arguments[2])", method, path
    )
    return answer


def access_claims(driver: webdriver.Chrome) -> dict[str, Any]:
    """The claims of the access token in the browser's cookie (unverified: the server checks it)."""
    token = {c["name"]: c["value"] for c in driver.get_cookies()}["accessToken"]
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def ceremonies(driver: webdriver.Chrome) -> list[dict[str, str]]:
    found: list[dict[str, str]] = driver.execute_script("return window.ceremonies")
    return found


def test_add_a_passkey_then_sign_in_with_it(
    stack: tuple[str, str, dict[str, str]],
    chromium: webdriver.Chrome,
    screenshot: Callable[[str], None],
    tmp_path: Path,
) -> None:
    auth, app, settings = stack
    created = run_authgate(
        tmp_path, "user", "create", "--email", EMAIL, "--password", STRONG_PASSWORD, "--verified", **settings
    )
    assert created.returncode == 0, created.stderr
    driver = chromium
    driver.set_window_size(800, 1200)  # the whole page in each screenshot
    authenticator = virtual_authenticator(driver)

    driver.get(f"{app}/?auth={auth}")
    status_says(driver, "Not signed in.")  # the autofill's request found no passkey, quietly
    assert driver.find_element(By.ID, "passkey-login").is_displayed()
    screenshot("signed-out")

    fill(driver, login_email=EMAIL, login_password=STRONG_PASSWORD)
    driver.find_element(By.ID, "login").click()
    status_says(driver, f"Signed in as {EMAIL}.")
    assert access_claims(driver)["amr"] == ["pwd"]
    assert driver.find_element(By.ID, "passkey-list").text == ""
    screenshot("password-sign-in")

    fill(driver, passkey_name="Laptop")
    driver.find_element(By.ID, "add-passkey").click()
    status_says(driver, 'Passkey "Laptop" added.')
    assert driver.find_element(By.ID, "passkey-list").text.startswith("Laptop: added ")
    assert driver.find_element(By.ID, "passkey-list").text.endswith("not used yet")
    screenshot("passkey-added")

    held = driver.execute_cdp_cmd("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(held) == 1 and held[0]["isResidentCredential"] and held[0]["rpId"] == "localhost"
    (passkey,) = through_page(driver, "GET", "/passkeys")["data"]
    assert base64.urlsafe_b64decode(passkey["credentialId"] + "==") == base64.b64decode(held[0]["credentialId"])
    assert passkey["name"] == "Laptop" and passkey["lastUsedAt"] is None
    user = through_page(driver, "GET", "/user")["data"]
    handle = base64.b64decode(held[0]["userHandle"])
    assert len(handle) == 32 and uuid.UUID(user["id"]).bytes not in handle  # the user handle, not the user id

    # Signed out, the page asks for a passkey in the email box's autofill; no one picks one (the
    # authenticator waits), so the button must abort that request before it starts its own.
    driver.execute_script(RECORD_CEREMONIES)
    touched_at_once(driver, authenticator, False)
    driver.find_element(By.ID, "logout").click()
    status_says(driver, "Signed out.")
    assert not driver.get_cookies()
    wait(
        lambda: ceremonies(driver) == [{"mediation": "conditional", "outcome": "pending"}],
        what="the autofill's request",
    )
    screenshot("signed-out-autofill-waiting")

    touched_at_once(driver, authenticator, True)
    driver.find_element(By.ID, "passkey-login").click()
    status_says(driver, f"Signed in as {EMAIL}.")
    assert ceremonies(driver) == [
        {"mediation": "conditional", "outcome": "AbortError"},
        {"mediation": "optional", "outcome": "credential"},
    ]
    screenshot("passkey-sign-in")

    assert through_page(driver, "GET", "/user")["data"]["id"] == user["id"]
    claims = access_claims(driver)
    assert claims["amr"] == ["hwk"]  # a passkey alone, bound to this device (not backup eligible)
    assert claims["sub"] == user["id"]
    (used,) = through_page(driver, "GET", "/passkeys")["data"]
    assert used["id"] == passkey["id"] and used["lastUsedAt"] is not None
    assert "last used" in driver.find_element(By.ID, "passkey-list").text
    signed = driver.execute_cdp_cmd("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(signed) == 1 and signed[0]["signCount"] > held[0]["signCount"]

    # Conditional UI: the virtual authenticator answers the autofill's request at once, as a
    # person who picks the passkey from the email box's list.
    driver.find_element(By.ID, "logout").click()
    wait(lambda: len(ceremonies(driver)) == 3 and ceremonies(driver)[2]["outcome"] != "pending", what="the autofill")
    assert ceremonies(driver)[2] == {"mediation": "conditional", "outcome": "credential"}
    status_says(driver, f"Signed in as {EMAIL}.")
    wait(lambda: "accessToken" in {c["name"] for c in driver.get_cookies()}, what="the new session's cookie")
    assert access_claims(driver)["sid"] != claims["sid"] and access_claims(driver)["amr"] == ["hwk"]
    screenshot("autofill-sign-in")
