"""Login by username and PIN (the name-and-PIN login's `{name, pin}`) on a deployment whose policy allows PINs."""

from __future__ import annotations

import httpx

from tests.support.app import ClientFactory
from tests.support.http import cookie_header, set_cookies

PIN_POLICY = {"password_min_length": 4, "password_require_mixed": False, "password_block_common": False}
COOL = {"email": "cool@example.com", "username": "cooluser1", "password": "0000"}


async def test_the_default_policy_refuses_a_pin(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/register", json=COOL)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "password"


async def test_name_and_pin_flow_in_process(make_client: ClientFactory) -> None:
    async with make_client(**PIN_POLICY, jwt_expiration_ms=60_000) as client:
        assert (await client.post("/auth/register", json=COOL)).status_code == 201
        response = await client.post("/auth/login", json={"name": "cooluser1", "pin": "0000"})
        assert response.status_code == 200, response.text
        assert response.json()["message"] == "Login successful"
        cookies = set_cookies(response)
        assert cookies["accessToken"]["max-age"] == "60"
        assert cookies["refreshToken"]["max-age"] == "2592000"
        client.cookies.clear()
        both = cookie_header(accessToken=cookies["accessToken"]["value"], refreshToken=cookies["refreshToken"]["value"])

        refreshed = await client.post("/auth/refresh", headers=both)
        assert refreshed.status_code == 200
        assert refreshed.json()["message"] == "Access token refreshed successfully"
        assert set_cookies(refreshed)["accessToken"]["value"] == refreshed.json()["accessToken"]

        new = cookie_header(accessToken=refreshed.json()["accessToken"], refreshToken=refreshed.json()["refreshToken"])
        logout = await client.post("/auth/logout", headers=new)
        assert logout.status_code == 200
        assert logout.json() == {"message": "Logout successful"}
        assert (await client.get("/auth/profile", headers=new[:1])).status_code == 401


async def test_username_forms_and_wrong_pin(make_client: ClientFactory) -> None:
    async with make_client(**PIN_POLICY) as client:
        assert (await client.post("/register", json=COOL)).status_code == 201
        for body in ({"username": "cooluser1", "password": "0000"}, {"name": "COOLUSER1", "pin": "0000"}):
            assert (await client.post("/login", json=body)).status_code == 200, body
        wrong = await client.post("/login", json={"name": "cooluser1", "pin": "0001"})
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "invalid_credentials"
        assert wrong.headers.get_list("set-cookie") == []
        unknown = await client.post("/login", json={"name": "nobody", "pin": "0000"})
        assert unknown.status_code == 401 and unknown.json() == wrong.json()
