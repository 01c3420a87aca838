// Register, sign in, read the user, refresh and log out, in both modes, against a real server.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthgateError, createClient, type LoginResult, type RegisterResult, type Session, type TokenStorage } from "@authgate/client";
import { AUTHGATE_URL, cookieJar, newAccount, recorder } from "./helpers.js";

// One of the server's route prefixes, so the tests also cover a baseUrl with a path.
const BASE = `${AUTHGATE_URL}/api/auth`;

function signedIn(result: RegisterResult | LoginResult): Session {
  assert.equal(result.kind, "signedIn");
  return (result as { session: Session }).session;
}

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<AuthgateError> {
  const error = await promise.then(
    () => assert.fail(`expected ${status} ${code}, got a success`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AuthgateError, `expected an AuthgateError, got ${error}`);
  assert.deepEqual([error.status, error.code], [status, code], error.message);
  return error;
}

/** POST /refresh with a refresh token in the body, outside any client. */
function rawRefresh(refreshToken: string): Promise<Response> {
  return fetch(`${BASE}/refresh`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refreshToken, options: { setCookie: false } }),
  });
}

describe("cookie mode", () => {
  test("register, getUser, login, refresh and logout keep the tokens in cookies only", async () => {
    const jar = cookieJar();
    const wire = recorder(jar.fetch);
    const client = createClient({ baseUrl: BASE, mode: "cookie", fetch: wire.fetch });
    const account = newAccount("cookie");

    signedIn(await client.register(account));
    assert.ok(jar.get("accessToken") && jar.get("refreshToken"), "register in cookie mode sets both cookies");
    assert.ok(wire.exchanges.every((e) => e.credentials === "include"));

    assert.equal((await client.getUser()).email, account.email);

    signedIn(await client.login({ email: account.email, password: account.password }));
    const before = jar.get("refreshToken");
    const refreshed = await client.refresh();
    assert.equal(refreshed.user.email, account.email);
    assert.notEqual(jar.get("refreshToken"), before, "refresh rotates the refresh cookie");
    assert.equal((await client.getUser()).email, account.email);

    const last = jar.get("refreshToken")!;
    await client.logout();
    assert.equal(jar.get("accessToken"), undefined, "logout deletes the cookies");
    assert.equal(jar.get("refreshToken"), undefined);
    await rejectsWith(client.refresh(), 401, "invalid_token");
    assert.equal((await rawRefresh(last)).status, 401, "the session's refresh token is dead on the server");
  });

  test("storage is refused: the tokens belong in HttpOnly cookies", () => {
    const storage: TokenStorage = { get: () => null, set: () => {}, remove: () => {} };
    assert.throws(() => createClient({ baseUrl: BASE, mode: "cookie", storage }), TypeError);
  });
});

describe("bearer mode", () => {
  test("register, getUser, login, refresh and logout keep the tokens in the given storage", async () => {
    const values = new Map<string, string>();
    const storage: TokenStorage = {
      get: async (key) => values.get(key),
      set: async (key, value) => void values.set(key, value),
      remove: async (key) => void values.delete(key),
    };
    const wire = recorder();
    const client = createClient({ baseUrl: BASE, mode: "bearer", fetch: wire.fetch, storage });
    const account = newAccount("bearer");

    const registered = signedIn(await client.register(account));
    assert.equal(values.get("authgate.accessToken"), registered.accessToken);
    assert.equal(values.get("authgate.refreshToken"), registered.refreshToken);

    const user = await client.getUser();
    assert.equal(user.email, account.email);
    const getUser = wire.exchanges.at(-1)!;
    assert.equal(getUser.requestHeaders.get("Authorization"), `Bearer ${registered.accessToken}`);

    const session = signedIn(await client.login({ email: account.email, password: account.password }));
    assert.equal(session.tokenType, "Bearer");
    const refreshed = await client.refresh();
    assert.notEqual(refreshed.refreshToken, session.refreshToken, "refresh rotates the refresh token");
    assert.equal(values.get("authgate.refreshToken"), refreshed.refreshToken);

    await client.logout();
    assert.equal(values.size, 0, "logout forgets both tokens");
    await rejectsWith(client.refresh(), 401, "invalid_token");
    assert.equal((await rawRefresh(refreshed.refreshToken!)).status, 401, "the session's refresh token is dead on the server");
    assert.ok(wire.exchanges.every((e) => e.credentials === "omit" && !e.requestHeaders.has("Cookie")));
  });

  test("login sends options.setCookie false and gets no Set-Cookie", async () => {
    const wire = recorder();
    const client = createClient({ baseUrl: BASE, mode: "bearer", fetch: wire.fetch });
    const account = newAccount("nocookie");
    await client.register(account);
    signedIn(await client.login({ email: account.email, password: account.password }));
    const login = wire.exchanges.find((e) => e.path.endsWith("/login"))!;
    assert.deepEqual(login.setCookies, []);
  });
});

describe("errors", () => {
  test("a wrong password is an AuthgateError 401 invalid_credentials", async () => {
    const client = createClient({ baseUrl: BASE, mode: "bearer" });
    const account = newAccount("wrong");
    await client.register(account);
    const error = await rejectsWith(client.login({ email: account.email, password: "Not-The-Password-1" }), 401, "invalid_credentials");
    assert.equal(error.problem.status, 401);
    assert.ok(error.detail);
  });

  test("invalid fields carry the problem's errors", async () => {
    const client = createClient({ baseUrl: BASE, mode: "bearer" });
    const error = await rejectsWith(client.register({ email: newAccount("short").email, password: "x" }), 400, "validation_failed");
    assert.ok(error.errors?.some((e) => e.field === "password"), JSON.stringify(error.problem));
  });

  test("getUser without a session is 401 invalid_token, after one refresh attempt", async () => {
    const wire = recorder();
    const client = createClient({ baseUrl: BASE, mode: "bearer", fetch: wire.fetch });
    await rejectsWith(client.getUser(), 401, "invalid_token");
    assert.equal(wire.count("/refresh"), 1);
  });

  test("email links answer 202 for any address; a bad token is 400 invalid_token", async () => {
    const client = createClient({ baseUrl: BASE, mode: "bearer" });
    const email = newAccount("links").email;
    assert.ok((await client.forgotPassword({ email })).message);
    assert.ok((await client.requestMagicLink({ email })).message);
    await rejectsWith(client.verifyEmail("not-a-token"), 400, "invalid_token");
    await rejectsWith(client.resetPassword("not-a-token", "Another-Pass-42"), 400, "invalid_token");
    await rejectsWith(client.signInWithMagicLink("not-a-token"), 400, "invalid_token");
  });
});

describe("setCookie, the code exchange and the user object", () => {
  test("bearer refresh sends options.setCookie false and gets no Set-Cookie", async () => {
    const wire = recorder();
    const client = createClient({ baseUrl: BASE, mode: "bearer", fetch: wire.fetch });
    signedIn(await client.register(newAccount("refresh-nocookie")));
    await client.refresh();
    const refresh = wire.exchanges.find((e) => e.path.endsWith("/refresh"))!;
    assert.equal(refresh.status, 200);
    assert.deepEqual(refresh.setCookies, []);
  });

  test("exchangeCode with an unknown code is 400 invalid_token", async () => {
    const client = createClient({ baseUrl: BASE, mode: "bearer" });
    const { codeVerifier } = await client.createPkcePair();
    await rejectsWith(client.exchangeCode({ code: "not-a-code", codeVerifier }), 400, "invalid_token");
  });

  test("a magic link takes a PKCE challenge, with the app's redirectTo", async () => {
    const client = createClient({ baseUrl: BASE, mode: "bearer" });
    const { codeChallenge, codeChallengeMethod } = await client.createPkcePair();
    const email = newAccount("magic").email;
    const redirectTo = `${AUTHGATE_URL}/app/signed-in`; // the public URL's origin is allowed by default
    assert.ok((await client.requestMagicLink({ email, redirectTo, codeChallenge, codeChallengeMethod })).message);
    await rejectsWith(client.requestMagicLink({ email, codeChallenge: "too-short", codeChallengeMethod }), 400, "validation_failed");
  });

  test("the user object has createdAt beside created_at", async () => {
    const client = createClient({ baseUrl: BASE, mode: "bearer" });
    const session = signedIn(await client.register(newAccount("created")));
    assert.equal(session.user.createdAt, session.user.created_at);
    const user = await client.getUser();
    assert.ok(user.createdAt && !Number.isNaN(Date.parse(user.createdAt)));
  });
});
