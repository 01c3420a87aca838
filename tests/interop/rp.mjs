// A relying party built on panva's openid-client (v6, pinned by package-lock.json), run by
// test_openid_client.py in phases, between which the test walks the browser through authgate's
// hosted sign-in and consent pages:
//
//   node rp.mjs authorize <session.json>           prints {"url"}: the authorization URL; saves
//                                                  the PKCE verifier, state and nonce in the file
//   node rp.mjs callback <session.json> <url>      the redirect back to the app: the code grant
//                                                  with every check, userinfo, refresh, revocation,
//                                                  and the URL that signs the browser out
//   node rp.mjs service <session.json>             the client credentials grant
//
// The session file, written by the test, names the issuer and the client (`clientId`,
// `clientSecret`, `auth`: client_secret_basic, client_secret_post or none, `redirectUri`,
// `postLogoutRedirectUri`, `scope`): the secret stays off the command line. Each phase prints one JSON object.

import { readFileSync, writeFileSync } from "node:fs";
import * as client from "openid-client";

const [phase, sessionPath, callbackUrl] = process.argv.slice(2);
const session = JSON.parse(readFileSync(sessionPath, "utf8"));

function authentication() {
  switch (session.auth) {
    case "client_secret_basic":
      return client.ClientSecretBasic(session.clientSecret);
    case "client_secret_post":
      return client.ClientSecretPost(session.clientSecret);
    case "none":
      return client.None();
    default:
      throw new Error(`unknown client authentication ${session.auth}`);
  }
}

async function configuration() {
  return client.discovery(new URL(session.issuer), session.clientId, undefined, authentication(), {
    execute: [
      // The issuer is http://localhost:<port> in the tests (authgate allows plain http only on
      // loopback), and openid-client v6 refuses any http URL unless this is set. In production
      // the issuer is https and this must not be used.
      client.allowInsecureRequests,
      // Also check the ID token's RS256 signature against the provider's JWKS (openid-client
      // skips it by default for a token that came straight from the token endpoint).
      client.enableNonRepudiationChecks,
    ],
  });
}

/** What a refusal says: the OAuth error the server sent, or openid-client's own error code. */
function refusal(error) {
  return { error: error.error ?? null, code: error.code ?? null, status: error.status ?? null, name: error.name };
}

async function authorize() {
  const config = await configuration();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: session.redirectUri,
    scope: session.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  writeFileSync(sessionPath, JSON.stringify({ ...session, verifier, state, nonce }));
  return { url: url.href };
}

async function callback() {
  const config = await configuration();
  const metadata = config.serverMetadata();
  const current = new URL(callbackUrl);
  // Strict checks: PKCE, the state, the nonce, the `iss` of the response (the provider says it
  // sends one), and the ID token (signature, iss, aud, azp, exp, iat, nonce).
  const checks = {
    pkceCodeVerifier: session.verifier,
    expectedState: session.state,
    expectedNonce: session.nonce,
    idTokenExpected: true,
  };
  const tokens = await client.authorizationCodeGrant(config, current, checks);
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const refreshedClaims = refreshed.claims();
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: "refresh_token" });
  let afterRevocation = null;
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token);
  } catch (error) {
    afterRevocation = refusal(error);
  }
  // Last, since the provider ends the grant a replayed code bought.
  let replayed = null;
  try {
    await client.authorizationCodeGrant(config, current, checks);
  } catch (error) {
    replayed = refusal(error);
  }
  // Where the app sends the browser to sign out (RP-initiated logout), naming the ID token.
  const logoutState = client.randomState();
  const endSessionUrl = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: session.postLogoutRedirectUri,
    state: logoutState,
  });
  return {
    issuer: metadata.issuer,
    tokenType: tokens.token_type,
    scope: tokens.scope,
    expiresIn: tokens.expiresIn(),
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    claims,
    userinfo,
    replayed,
    refreshed: {
      scope: refreshed.scope,
      claims: refreshedClaims,
      newRefreshToken: refreshed.refresh_token !== tokens.refresh_token,
    },
    afterRevocation,
    endSessionUrl: endSessionUrl.href,
    logoutState,
  };
}

async function service() {
  const config = await configuration();
  const tokens = await client.clientCredentialsGrant(config, { scope: session.scope });
  return {
    tokenType: tokens.token_type,
    scope: tokens.scope,
    expiresIn: tokens.expiresIn(),
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? null,
    idToken: tokens.id_token ?? null,
  };
}

const phases = { authorize, callback, service };
if (!(phase in phases)) {
  console.error(`usage: node rp.mjs authorize|callback|service <session.json> [callback-url]`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await phases[phase]()) + "\n");
