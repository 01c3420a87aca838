"""ALTCHA on the sign-in page in a real browser: the pages' own script solves the challenge
(WebCrypto), fills the form's `altcha` field, and the server accepts it; no console error."""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.support.captcha import solve
from tests.support.http import STRONG_PASSWORD
from tests.support.pages import browser_log, path_of
from tests.support.server import running_server, wait


def test_the_sign_in_form_solves_its_altcha_challenge(chromium: webdriver.Chrome, tmp_path: Path) -> None:
    with running_server(tmp_path, AUTHGATE_CAPTCHA_PROVIDER="altcha") as base:
        challenge = httpx.get(f"{base}/captcha/challenge").json()
        body = {"email": "ada@example.com", "password": STRONG_PASSWORD, "captchaToken": solve(challenge)}
        assert httpx.post(f"{base}/register", json=body).status_code == 201
        chromium.get(f"{base}/ui/login")
        field = chromium.find_element(By.NAME, "altcha")
        wait(lambda: bool(field.get_attribute("value")), what="the page's script to solve the challenge")
        chromium.find_element(By.ID, "email").send_keys("ada@example.com")
        chromium.find_element(By.ID, "password").send_keys(STRONG_PASSWORD)
        chromium.find_element(By.CSS_SELECTOR, "form[action='/ui/login'] button[type=submit]").click()
        wait(lambda: path_of(chromium) == "/ui/account", what="the account page")
        console = browser_log(chromium, "browser")
        errors = [e for e in console if e.get("level") == "SEVERE" and "favicon.ico" not in e.get("message", "")]
        assert errors == []
