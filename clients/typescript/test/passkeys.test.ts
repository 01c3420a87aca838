// Passkeys against a real server, with a software authenticator playing the browser: add, list,
// rename, sign in (both modes, and conditional mediation), the second step, delete.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AuthgateError,
  createClient,
  type AuthgateClient,
  type components,
  type LoginResult,
  type PasskeyRequestOptionsJSON,
  type Session,
} from "@authgate/client";
import { pageOrigin, SoftwareAuthenticator } from "./authenticator.js";
import { ALWAYS_REAUTH_URL, AUTHGATE_URL, cookieJar, newAccount, recorder, totp } from "./helpers.js";

const ORIGIN = pageOrigin(AUTHGATE_URL);

function signedIn(result: LoginResult): Session {
  assert.equal(result.kind, "signedIn", JSON.stringify(result));
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

/** The claims of a JWT, unverified: to read `amr`. */
function claims(token: string): { amr?: string[]; sub?: string } {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
}

/** Turns TOTP on for the signed-in account; returns its secret (the current step's code is spent). */
async function enableTotp(client: AuthgateClient): Promise<string> {
  const setup = await client.fetch("/mfa/setup", { method: "POST" });
  assert.equal(setup.status, 200, await setup.clone().text());
  const { secret } = (await setup.json()) as components["schemas"]["TotpSetupOut"];
  const enable = await client.fetch("/mfa/enable", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ secret, verificationCode: totp(secret) }),
  });
  assert.equal(enable.status, 200, await enable.clone().text());
  return secret;
}

describe("cookie mode", () => {
  test("add, list, rename, sign in (also conditional), delete", async () => {
    const jar = cookieJar();
    const wire = recorder(jar.fetch);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const client = createClient({ baseUrl: AUTHGATE_URL, mode: "cookie", fetch: wire.fetch, webauthn: authenticator });
    const account = newAccount("passkey-cookie");
    await client.register(account); // a fresh sign-in: recent enough to add a passkey

    const added = await client.addPasskey({ name: "Laptop" });
    assert.equal(added.name, "Laptop");
    assert.equal(added.credentialId, authenticator.passkeys[0]!.id.toString("base64url"));
    assert.equal(added.lastUsedAt, null);
    assert.equal(added.backupEligible, false);
    assert.equal(added.aaguid, "00000000-0000-0000-0000-000000000000");
    assert.deepEqual(added.transports, ["internal"]);
    const verify = wire.exchanges.find((e) => e.path === "/passkeys/register/verify")!;
    assert.equal(verify.status, 201);

    // The authenticator holds one of the account's passkeys: the options exclude it.
    await assert.rejects(client.addPasskey(), (error: unknown) => error instanceof DOMException && error.name === "InvalidStateError");

    assert.deepEqual(
      (await client.listPasskeys()).map((p) => [p.id, p.name]),
      [[added.id, "Laptop"]],
    );
    const renamed = await client.renamePasskey(added.id, "Work laptop");
    assert.deepEqual([renamed.id, renamed.name], [added.id, "Work laptop"]);
    await rejectsWith(client.renamePasskey(added.id, ""), 400, "validation_failed");

    await client.logout();
    assert.equal(jar.get("accessToken"), undefined);
    const session = signedIn(await client.signInWithPasskey());
    assert.equal(session.email, account.email);
    assert.deepEqual(claims(session.accessToken).amr, ["hwk"], "a device-bound passkey alone is hwk");
    assert.ok(jar.get("accessToken") && jar.get("refreshToken"), "cookie mode: the passkey sign-in sets the cookies");
    assert.equal((await client.getUser()).email, account.email);
    const [used] = await client.listPasskeys();
    assert.ok(used?.lastUsedAt && !Number.isNaN(Date.parse(used.lastUsedAt)));
    const login = authenticator.requests.at(-1)!;
    assert.deepEqual(login.options.allowCredentials ?? [], [], "discoverable: nothing to enumerate");
    assert.equal(login.options.userVerification, "required");
    assert.equal(login.mediation, undefined);

    // Conditional mediation reaches the authenticator; the sign-in is the same.
    await client.logout();
    signedIn(await client.signInWithPasskey({ mediation: "conditional", signal: new AbortController().signal }));
    assert.equal(authenticator.requests.at(-1)!.mediation, "conditional");
    assert.ok(wire.exchanges.every((e) => e.credentials === "include"));

    // Signed in by the passkey just now: recent enough to delete it (the password stays).
    await client.deletePasskey(added.id);
    assert.deepEqual(await client.listPasskeys(), []);
    await rejectsWith(client.deletePasskey(added.id), 404, "not_found");
    await client.logout();
    await rejectsWith(client.signInWithPasskey(), 401, "invalid_credentials");
  });

  test("an aborted conditional request sends nothing to verify", async () => {
    const wire = recorder();
    const client = createClient({ baseUrl: AUTHGATE_URL, mode: "cookie", fetch: wire.fetch, webauthn: new SoftwareAuthenticator(ORIGIN) });
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(client.signInWithPasskey({ mediation: "conditional", signal: controller.signal }), { name: "AbortError" });
    assert.equal(wire.count("/passkeys/login/verify"), 0);
  });
});

describe("bearer mode", () => {
  test("a synced passkey signs in with tokens in storage and no cookies", async () => {
    const wire = recorder();
    const authenticator = new SoftwareAuthenticator(ORIGIN, { synced: true });
    const client = createClient({ baseUrl: `${AUTHGATE_URL}/api/auth`, mode: "bearer", fetch: wire.fetch, webauthn: authenticator });
    const account = newAccount("passkey-bearer");
    await client.register(account);

    const added = await client.addPasskey(); // no name: authgate's default
    assert.equal(added.name, "Passkey");
    assert.deepEqual([added.backupEligible, added.backedUp], [true, true]);
    await client.logout();

    const session = signedIn(await client.signInWithPasskey());
    assert.equal(session.user.email, account.email);
    assert.ok(session.refreshToken);
    assert.deepEqual(claims(session.accessToken).amr, ["swk"], "a synced passkey is swk");
    assert.equal((await client.getUser()).email, account.email);
    const verify = wire.exchanges.find((e) => e.path.endsWith("/passkeys/login/verify"))!;
    assert.deepEqual(verify.setCookies, [], "bearer mode asks the passkey sign-in for no cookies");
    assert.ok(wire.exchanges.every((e) => e.credentials === "omit" && !e.requestHeaders.has("Cookie")));

    // The password is another way in: the only passkey may go.
    await client.deletePasskey(added.id);
    assert.deepEqual(await client.listPasskeys(), []);
  });

  test("a spent challenge is 400 invalid_token; a page's origin must be allowed", async () => {
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const client = createClient({ baseUrl: AUTHGATE_URL, mode: "bearer", webauthn: authenticator });
    await client.register(newAccount("passkey-replay"));
    await client.addPasskey();

    // Replaying an assertion: the challenge was consumed by the first verify.
    const start = await fetch(`${AUTHGATE_URL}/passkeys/login/options`, { method: "POST" });
    const { challengeId, options } = (await start.json()) as { challengeId: string; options: PasskeyRequestOptionsJSON };
    const credential = await authenticator.get(options);
    const verify = () =>
      fetch(`${AUTHGATE_URL}/passkeys/login/verify`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ challengeId, credential, options: { setCookie: false } }),
      });
    assert.equal((await verify()).status, 200);
    const replay = await verify();
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { code: string }).code, "invalid_token");

    // A page on a subdomain the server does not allow: the browser lets it use the RP ID, authgate
    // refuses the origin, naming the check.
    const subdomain = new URL(ORIGIN);
    subdomain.hostname = `app.${subdomain.hostname}`;
    const other = createClient({ baseUrl: AUTHGATE_URL, mode: "bearer", webauthn: new SoftwareAuthenticator(subdomain.origin) });
    await other.register(newAccount("passkey-origin"));
    const refused = await rejectsWith(other.addPasskey(), 400, "validation_failed");
    assert.ok(refused.errors?.some((e) => e.field === "credential"), JSON.stringify(refused.problem));

    // A page on another site: the browser refuses the RP ID before any authenticator is asked.
    const elsewhere = createClient({ baseUrl: AUTHGATE_URL, mode: "bearer", webauthn: new SoftwareAuthenticator("https://elsewhere.example") });
    await assert.rejects(elsewhere.signInWithPasskey(), { name: "SecurityError" });
  });

  test("without WebAuthn or an adapter, the passkey calls say so", async () => {
    const client = createClient({ baseUrl: AUTHGATE_URL, mode: "bearer" });
    await assert.rejects(client.signInWithPasskey(), { name: "NotSupportedError" });
  });
});

describe("proof of a recent sign-in", () => {
  test("adding and deleting send currentPassword when the sign-in is not recent", async () => {
    const authenticator = new SoftwareAuthenticator(pageOrigin(ALWAYS_REAUTH_URL));
    const client = createClient({ baseUrl: ALWAYS_REAUTH_URL, mode: "bearer", webauthn: authenticator });
    const account = newAccount("passkey-proof");
    await client.register(account);

    await rejectsWith(client.addPasskey(), 401, "reauthentication_required");
    await rejectsWith(client.addPasskey({ currentPassword: "Not-The-Password-1" }), 401, "invalid_credentials");
    assert.equal(authenticator.passkeys.length, 0, "no authenticator was asked");
    const added = await client.addPasskey({ name: "Phone", currentPassword: account.password });

    await rejectsWith(client.deletePasskey(added.id), 401, "reauthentication_required");
    await client.deletePasskey(added.id, { currentPassword: account.password });
    assert.deepEqual(await client.listPasskeys(), []);
  });
});

describe("with a second factor", () => {
  test("adding needs its code; the passkey sign-in answers mfaRequired; a passkey finishes a password sign-in", async () => {
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const client = createClient({ baseUrl: AUTHGATE_URL, mode: "bearer", webauthn: authenticator });
    const account = newAccount("passkey-mfa");
    await client.register(account);
    const secret = await enableTotp(client);

    // This session did not pass the second factor (it was off then): its code must come along.
    await rejectsWith(client.addPasskey(), 401, "reauthentication_required");
    assert.equal(authenticator.passkeys.length, 0, "no authenticator was asked");
    const added = await client.addPasskey({ name: "Key", mfaCode: totp(secret, 1) }); // the enabling step's code is spent
    await client.logout();

    // A passkey is one factor: the account's second one is asked next, never the passkey again.
    const first = await client.signInWithPasskey();
    assert.equal(first.kind, "mfaRequired");
    if (first.kind !== "mfaRequired") return;
    assert.ok(first.methods.includes("totp"), `methods: ${first.methods}`);
    assert.ok(!first.methods.includes("passkey"), `methods: ${first.methods}`);

    // A password sign-in: the passkey is offered as the second step.
    const result = await client.login({ email: account.email, password: account.password });
    assert.equal(result.kind, "mfaRequired");
    if (result.kind !== "mfaRequired") return;
    assert.ok(result.methods.includes("passkey"), `methods: ${result.methods}`);
    const session = await client.verifyMfaWithPasskey(result.mfaToken);
    assert.equal(session.user.email, account.email);
    assert.deepEqual(claims(session.accessToken).amr, ["pwd", "hwk"]);
    assert.equal((await client.getUser()).email, account.email);
    const step = authenticator.requests.at(-1)!.options;
    assert.deepEqual(step.allowCredentials?.map((d) => d.id), [added.credentialId], "the account's passkeys only");
    assert.equal(step.userVerification, "discouraged");

    // A used mfaToken is over.
    await rejectsWith(client.verifyMfaWithPasskey(result.mfaToken), 401, "invalid_token");
  });
});
