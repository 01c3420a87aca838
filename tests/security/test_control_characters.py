"""Control (Cc) and format (Cf) characters in a JSON body are a 400 naming the field, never a
500 from the database (PostgreSQL refuses NUL in text) and never stored to mislead a reader
(U+202E reverses the text after it)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD, bearer, register

BAD = {
    "nul": "\x00",
    "bell": "\x07",
    "escape": "\x1b",
    "tab": "\t",
    "newline": "\n",
    "c1_control": "\x85",
    "rlo": "\u202e",
    "zero_width_space": "\u200b",
    "bom": "\ufeff",
}


def fields_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    return [e["field"] for e in body["errors"]]


@pytest.mark.parametrize("field", ["username", "email", "name", "password", "pin", "mfaCode", "captchaToken"])
async def test_nul_byte_in_a_login_field_is_400_not_500(client: httpx.AsyncClient, field: str) -> None:
    body = {"password": STRONG_PASSWORD, field: "ada\x00smith"}
    if field not in {"username", "email", "name"}:
        body["username"] = "ada"
    assert fields_of(await client.post("/login", json=body)) == [field]


@pytest.mark.parametrize("char", BAD.values(), ids=BAD.keys())
async def test_control_or_invisible_character_in_register_name_is_refused(client: httpx.AsyncClient, char: str) -> None:
    response = await client.post(
        "/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD, "name": f"Ada{char}Lovelace"}
    )
    assert fields_of(response) == ["name"]
    # Nothing was created: the same address registers cleanly afterwards.
    await register(client, name="Ada Lovelace")


@pytest.mark.parametrize("name", ["Renée Müller", "日本 太郎", "Ада", "O'Brien-Smith", "😀"])
async def test_ordinary_non_ascii_names_are_still_accepted(client: httpx.AsyncClient, name: str) -> None:
    response = await register(client, name=name)
    assert response.json()["user"]["name"] == name


async def test_every_field_with_a_control_character_is_named_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/register",
        json={
            "email": "ada@example.com\x00",
            "password": "Sturdy\x00Horse-42",
            "name": "\u202eecilA",
            "username": "ada\u200b",
            "phone": "+14155550100\r\n",
        },
    )
    assert sorted(fields_of(response)) == ["email", "name", "password", "phone", "username"]


async def test_nul_in_a_password_is_refused_not_hashed(client: httpx.AsyncClient) -> None:
    """Passwords are text fields too: a NUL is refused at the door, on register and login alike."""
    refused = await client.post("/register", json={"email": "ada@example.com", "password": "Sturdy-Horse-42\x00x"})
    assert fields_of(refused) == ["password"]
    await register(client)
    wrong = await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD + "\x00"})
    assert fields_of(wrong) == ["password"]


async def test_control_characters_in_a_profile_update_change_nothing(client: httpx.AsyncClient) -> None:
    token = (await register(client, name="Ada")).json()["accessToken"]
    response = await client.put("/user", json={"name": "Ada\u202e", "username": "ada\x00"}, headers=bearer(token))
    assert sorted(fields_of(response)) == ["name", "username"]
    profile = (await client.get("/user", headers=bearer(token))).json()
    assert profile["name"] == "Ada" and profile["username"] is None


async def test_aliased_fields_of_other_bodies_are_named_as_sent(client: httpx.AsyncClient) -> None:
    verify = await client.post("/mfa/verify", json={"mfaToken": "x\x00", "code": "123456"})
    assert fields_of(verify) == ["mfaToken"]
    otp = await client.post("/otp/send", json={"channel": "email", "email": "ada@example.com\x07"})
    assert fields_of(otp) == ["email"]
    forgot = await client.post("/password/forgot", json={"email": "ada@example.com", "redirectTo": "/x\x00"})
    assert fields_of(forgot) == ["redirectTo"]
    # The reset body is parsed by hand (it also takes an HTML form); the rule still holds.
    reset = await client.post("/password/reset/some-token", json={"password": "Sturdy\x00Horse-42"})
    assert fields_of(reset) == ["password"]


async def test_control_characters_are_stripped_from_the_stored_user_agent(client: httpx.AsyncClient) -> None:
    await register(client)
    login = await client.post(
        "/login",
        json={"email": "ada@example.com", "password": STRONG_PASSWORD},
        headers={"User-Agent": "Evil\x00Agent\x1b[2J/1.0\x7f"},
    )
    assert login.status_code == 200, login.text
    sessions = (await client.get("/sessions", headers=bearer(login.json()["accessToken"]))).json()
    agents = {s["userAgent"] for s in sessions if s["current"]}
    assert agents == {"EvilAgent[2J/1.0"}


@pytest.mark.parametrize(
    "method, path",
    [
        ("DELETE", "/sessions/%00"),
        ("DELETE", "/oauth/link/%00"),
        ("POST", "/user/%00/unlock"),
        ("GET", "/email/verify/%00abc"),
        ("GET", "/api/auth/login/magic/%E2%80%AE"),
    ],
)
async def test_control_characters_in_a_path_are_400_not_500(client: httpx.AsyncClient, method: str, path: str) -> None:
    """A NUL in an id would reach PostgreSQL as a parameter it refuses."""
    token = (await register(client)).json()["token"]
    response = await client.request(method, path, headers=bearer(token))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_failed"
