// Shared by the tests: the servers' URLs, unique accounts, a TOTP code, a cookie jar and a
// fetch that records what went over the wire.
import { createHmac, randomUUID } from "node:crypto";
import type { Fetch } from "@authgate/client";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} to a running authgate (the pytest wrapper tests/e2e/test_typescript_client.py does)`);
  return value.replace(/\/+$/, "");
}

/** An authgate with the default token lifetimes. */
export const AUTHGATE_URL = required("AUTHGATE_URL");
/** An authgate started with JWT_EXPIRATION_MS=2000, for the refresh tests. */
export const SHORT_TOKEN_URL = required("AUTHGATE_SHORT_TOKEN_URL");
/**
 * An authgate started with AUTHGATE_REAUTH_MAX_AGE_SECONDS=0: no sign-in is recent enough for a
 * sensitive change, so each one needs `currentPassword` or `mfaCode`.
 */
export const ALWAYS_REAUTH_URL = required("AUTHGATE_ALWAYS_REAUTH_URL");

/**
 * Past the expiry of an access token SHORT_TOKEN_URL just issued. `exp` is whole seconds
 * (issued at 12.9 s: iat 12, exp 14), so its tokens live between one and two seconds: never
 * less than one, which leaves a retry after a refresh ample time.
 */
export const sleepPastExpiry = () => new Promise((resolve) => setTimeout(resolve, 2100));

export const PASSWORD = "Client-Pass-42";

export function newAccount(label: string): { email: string; password: string; name: string } {
  return { email: `${label}-${randomUUID()}@example.com`, password: PASSWORD, name: `Test ${label}` };
}

/** The RFC 6238 code (HMAC-SHA1, 6 digits, 30-second steps) of a base32 secret; `offset` steps from now. */
export function totp(secret: string, offset = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * Node's fetch keeps no cookies; a browser does. This jar does what a browser does for one
 * host: stores Set-Cookie, forgets a cookie when its Max-Age runs out or it is deleted, and
 * sends the live ones back; with `credentials: "omit"` it neither sends nor stores any.
 */
export function cookieJar(inner: Fetch = (url, init) => fetch(url, init)) {
  const cookies = new Map<string, { value: string; expires: number }>();
  const live = () => {
    for (const [name, cookie] of cookies) if (cookie.expires <= Date.now()) cookies.delete(name);
    return cookies;
  };
  const jarFetch: Fetch = async (url, init) => {
    if (init.credentials === "omit") return inner(url, init);
    const headers = new Headers(init.headers);
    const sent = [...live()].map(([name, cookie]) => `${name}=${cookie.value}`);
    if (sent.length) headers.set("Cookie", sent.join("; "));
    const response = await inner(url, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const [name = "", value = ""] = pair.split(/=(.*)/s);
      const maxAge = attributes.find((a) => /^max-age=/i.test(a))?.split("=")[1];
      const expires = maxAge === undefined ? Infinity : Date.now() + Number(maxAge) * 1000;
      if (!value || expires <= Date.now()) cookies.delete(name);
      else cookies.set(name, { value, expires });
    }
    return response;
  };
  return { fetch: jarFetch, get: (name: string) => live().get(name)?.value };
}

export interface Exchange {
  method: string;
  path: string;
  credentials: RequestCredentials | undefined;
  requestHeaders: Headers;
  status: number;
  setCookies: string[];
}

/** Wraps a fetch and records each exchange: to count refreshes, and to check for cookies. */
export function recorder(inner: Fetch = (url, init) => fetch(url, init)) {
  const exchanges: Exchange[] = [];
  const recordingFetch: Fetch = async (url, init) => {
    const response = await inner(url, init);
    exchanges.push({
      method: init.method ?? "GET",
      path: new URL(url).pathname,
      credentials: init.credentials,
      requestHeaders: new Headers(init.headers),
      status: response.status,
      setCookies: response.headers.getSetCookie(),
    });
    return response;
  };
  return { fetch: recordingFetch, exchanges, count: (path: string) => exchanges.filter((e) => e.path.endsWith(path)).length };
}
