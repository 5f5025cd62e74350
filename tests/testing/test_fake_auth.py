"""Basic, X-Auth-Token, login, idle expiry with an injected clock, two-factor sign-in."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx

from voipstudio_async.testing import FakeVoipStudio

ClientFor = Callable[..., httpx.AsyncClient]


def small(**options: object) -> FakeVoipStudio:
    return FakeVoipStudio(cdrs=5, monitors=1, msdrs=1, chats=1, voicemessages=1, **options)  # type: ignore[arg-type]


async def test_basic_with_api_key_and_the_real_401_body(client_for: ClientFor) -> None:
    fake = small()
    async with client_for(fake) as client:
        assert (await client.get("/cdrs")).status_code == 200
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as anon:
        missing = await anon.get("/cdrs")
        assert missing.status_code == 401
        assert missing.json() == {
            "message": "Unauthorized",
            "errors": [{"field": None, "message": "Authentication required"}],
        }
        creds = fake.credentials
        for user, secret in ((str(creds.user_id), "wrong"), ("1", creds.api_key), ("", "")):
            assert (await anon.get("/cdrs", auth=(user, secret))).status_code == 401
        garbage = {"Authorization": "Basic !!!"}
        assert (await anon.get("/cdrs", headers=garbage)).status_code == 401
        assert (await anon.get("/cdrs", headers={"X-Auth-Token": creds.api_key})).status_code == 200
        assert (await anon.get("/cdrs", headers={"X-Auth-Token": "nope"})).status_code == 401


async def test_login_token_works_both_ways_and_expires_after_30_idle_minutes() -> None:
    now = [1000.0]
    fake = small(clock=lambda: now[0])
    creds = fake.credentials
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        wrong = await http.post("/login", json={"email": creds.email, "password": "x"})
        assert wrong.status_code == 401
        assert wrong.json()["errors"][0]["message"] == "Invalid credentials"
        signed_in = await http.post(
            "/login", json={"email": creds.email, "password": creds.password}
        )
        assert signed_in.status_code == 200
        body = signed_in.json()
        assert body["message"] == "Login success"
        assert body["user_id"] == creds.user_id
        token = body["user_token"]
        assert len(token) == 40
        assert fake.login_count == 2

        header = {"X-Auth-Token": token}
        basic = {
            "Authorization": "Basic "
            + base64.b64encode(f"{creds.user_id}:{token}".encode()).decode()
        }
        assert (await http.get("/cdrs", headers=header)).status_code == 200
        now[0] += 29 * 60
        assert (await http.get("/cdrs", headers=basic)).status_code == 200  # resets the timer
        now[0] += 29 * 60
        assert (await http.get("/cdrs", headers=header)).status_code == 200
        fake.advance(30 * 60 + 1)
        expired = await http.get("/cdrs", headers=header)
        assert expired.status_code == 401
        assert (await http.get("/cdrs", headers=basic)).status_code == 401
        # The API key never expires.
        assert (await http.get("/cdrs", headers={"X-Auth-Token": creds.api_key})).status_code == 200

        again = (
            await http.post("/login", json={"email": creds.email, "password": creds.password})
        ).json()
        fake.expire_tokens()
        assert (
            await http.get("/cdrs", headers={"X-Auth-Token": again["user_token"]})
        ).status_code == 401
        assert (await http.post("/login", content=b"not json")).status_code == 400
        fake.reset_log()
        assert fake.login_count == 0


async def test_two_factor_sign_in() -> None:
    fake = small(two_factor_code="246810")
    creds = fake.credentials
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        challenge = await http.post(
            "/login", json={"email": creds.email, "password": creds.password}
        )
        assert challenge.status_code == 202
        nonce = challenge.json()["nonce"]
        assert (
            await http.post("/login2fa", json={"code": "000000", "nonce": nonce})
        ).status_code == 401
        done = await http.post("/login2fa", json={"code": "246810", "nonce": nonce})
        assert done.status_code == 200
        assert done.json()["user_id"] == creds.user_id
        token = done.json()["user_token"]
        assert (await http.get("/monitors", headers={"X-Auth-Token": token})).status_code == 200
        # A nonce is good once.
        assert (
            await http.post("/login2fa", json={"code": "246810", "nonce": nonce})
        ).status_code == 401
        assert fake.login2fa_count == 3
        fake.two_factor_code = None
        plain = await http.post("/login", json={"email": creds.email, "password": creds.password})
        assert plain.status_code == 200


async def test_log_redacts_credentials(client_for: ClientFor) -> None:
    fake = small()
    async with client_for(fake) as client:
        await client.get("/cdrs", params={"limit": 1}, headers={"X-Auth-Token": "secret-token"})
    [entry] = fake.requests
    assert (entry.method, entry.path, entry.query, entry.status) == ("GET", "/cdrs", "limit=1", 401)
    assert entry.headers["authorization"] == "[redacted]"
    assert entry.headers["x-auth-token"] == "[redacted]"
    assert fake.credentials.api_key not in repr(fake.requests)
