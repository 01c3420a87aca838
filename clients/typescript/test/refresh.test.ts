// Automatic refresh after the access token expires, and one refresh for many callers, against a
// server whose access tokens live one to two seconds.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient } from "@authgate/client";
import { SHORT_TOKEN_URL, cookieJar, newAccount, recorder, sleepPastExpiry } from "./helpers.js";

const MODES = ["cookie", "bearer"] as const;

/** A signed-in client of the short-lived-token server, and the record of its exchanges. */
async function signedInClient(mode: (typeof MODES)[number]) {
  const wire = recorder();
  // Cookie mode needs what a browser has: a cookie jar.
  const fetch = mode === "cookie" ? cookieJar(wire.fetch).fetch : wire.fetch;
  const client = createClient({ baseUrl: SHORT_TOKEN_URL, mode, fetch });
  const account = newAccount(`refresh-${mode}`);
  assert.equal((await client.register(account)).kind, "signedIn");
  return { client, wire, account };
}

describe("an expired access token", { concurrency: true }, () => {
  for (const mode of MODES) {
    test(`${mode} mode: fetch refreshes once and retries`, async () => {
      const { client, wire, account } = await signedInClient(mode);
      await sleepPastExpiry();
      const response = await client.fetch("/user");
      assert.equal(response.status, 200);
      assert.equal((await response.json()).email, account.email);
      assert.equal(wire.count("/refresh"), 1);
      assert.deepEqual(
        wire.exchanges.filter((e) => e.path === "/user").map((e) => e.status),
        [401, 200],
        "the first try is refused, the retry after the refresh passes",
      );
    });

    test(`${mode} mode: five parallel requests share one refresh, and the session lives on`, async () => {
      const { client, wire, account } = await signedInClient(mode);
      await sleepPastExpiry();
      const users = await Promise.all(Array.from({ length: 5 }, () => client.getUser()));
      assert.ok(users.every((user) => user.email === account.email));
      assert.equal(wire.count("/refresh"), 1, "exactly one POST /refresh for five callers");

      // The session was not ended as a replay: it still answers, and it still refreshes.
      const sessions = await client.fetch("/sessions");
      assert.equal(sessions.status, 200);
      assert.equal((await sessions.json()).filter((s: { current: boolean }) => s.current).length, 1);
      await client.refresh();
      assert.equal((await client.getUser()).email, account.email);
    });
  }
});
