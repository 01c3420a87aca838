// The MFA step: enrol an authenticator app, then a login needs verifyMfa.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthgateError, createClient, type components } from "@authgate/client";
import { AUTHGATE_URL, newAccount, recorder, totp } from "./helpers.js";

test("with TOTP on, login answers mfaRequired and verifyMfa signs in", async () => {
  const wire = recorder();
  const client = createClient({ baseUrl: AUTHGATE_URL, mode: "bearer", fetch: wire.fetch });
  const account = newAccount("mfa");
  await client.register(account);

  const setup = await client.fetch("/mfa/setup", { method: "POST" });
  assert.equal(setup.status, 200, await setup.clone().text());
  const { secret } = (await setup.json()) as components["schemas"]["TotpSetupOut"];
  const enable = await client.fetch("/mfa/enable", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ secret, verificationCode: totp(secret) }),
  });
  assert.equal(enable.status, 200, await enable.clone().text());

  const result = await client.login({ email: account.email, password: account.password });
  assert.equal(result.kind, "mfaRequired");
  if (result.kind !== "mfaRequired") return;
  assert.ok(result.methods.includes("totp"), `methods: ${result.methods}`);

  // The enabling code's time step is spent (a code works once): sign in with the next step's.
  const code = totp(secret, 1);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  await assert.rejects(
    client.verifyMfa({ mfaToken: result.mfaToken, code: wrong }),
    (error: unknown) => error instanceof AuthgateError && error.status === 401 && error.code === "invalid_mfa_code",
  );
  const session = await client.verifyMfa({ mfaToken: result.mfaToken, code, method: "totp" });
  assert.equal(session.user.mfaEnabled, true);
  assert.equal((await client.getUser()).mfaEnabled, true);
  const verify = wire.exchanges.find((e) => e.path === "/mfa/verify" && e.status === 200)!;
  assert.deepEqual(verify.setCookies, [], "bearer mode asks MFA verify for no cookies");
});
