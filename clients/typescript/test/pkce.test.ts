// createPkcePair: RFC 7636 S256, checked against node:crypto.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { createPkcePair } from "@authgate/client";

test("the challenge is base64url(sha256(verifier)), and the verifier is random and long enough", async () => {
  const pair = await createPkcePair();
  assert.equal(pair.codeChallengeMethod, "S256");
  assert.match(pair.codeVerifier, /^[A-Za-z0-9_-]{43,128}$/);
  assert.equal(pair.codeChallenge, createHash("sha256").update(pair.codeVerifier).digest("base64url"));
  assert.notEqual((await createPkcePair()).codeVerifier, pair.codeVerifier);
});
