/**
 * A small client for authgate: register, sign in (with the MFA step), refresh, log out,
 * passkeys (WebAuthn), and the PKCE code exchange, in browsers and in Node 20+ (global fetch
 * and WebCrypto; passkeys in Node through a `webauthn` adapter you pass).
 *
 * Two ways to hold a session:
 * - "cookie": authgate keeps the tokens in HttpOnly cookies. This client never stores them;
 *   it sends `credentials: "include"`. For apps on authgate's own site.
 * - "bearer": the client keeps the access and refresh tokens (in memory, or in a storage you
 *   pass) and sends `Authorization: Bearer`. For apps on another site, native apps, servers.
 *
 * Request and response types come from schema.d.ts, which `npm run generate` writes from the
 * server's OpenAPI document.
 */
import type { components } from "./schema.js";

/** The whole API's types, for answers read through `client.fetch`. */
export type { components, paths } from "./schema.js";
type Schemas = components["schemas"];

/** The login response: what login, MFA verify, refresh and the code exchange answer. */
export type Session = Schemas["LoginOut"];
export type User = Schemas["UserOut"];
/** `GET /user`: the user object with the ways the account can sign in. */
export type CurrentUser = Schemas["CurrentUserOut"];
export type Message = Schemas["MessageOut"];
export type EmailVerified = Schemas["EmailVerifiedOut"];
export type Registration = Schemas["RegisteredOut"];
export type MfaMethod = NonNullable<Schemas["VerifyIn"]["method"]>;
/** A passkey as authgate lists it: never its public key or counter. */
export type Passkey = Schemas["PasskeyOut"];
/** Proof of a recent sign-in, for adding or deleting a passkey when the session is not recent. */
export type PasskeyProof = Pick<Schemas["ReauthIn"], "currentPassword" | "mfaCode">;
/** An RFC 9457 problem; an `mfa_required` one also carries `mfaToken` and `mfaMethods`. */
export type Problem = Schemas["Problem"] & {
  mfaToken?: string;
  mfaMethods?: MfaMethod[];
  [extension: string]: unknown;
};

// The client sets `options` itself (cookies or not), so callers never pass them.
export type RegisterInput = Omit<Schemas["RegisterIn"], "options">;
export type LoginInput = Omit<Schemas["LoginIn"], "options">;
/** A code of the second step; a passkey's second step is `verifyMfaWithPasskey`. */
export type VerifyMfaInput = { mfaToken: string; method?: Exclude<MfaMethod, "passkey"> | null; code: string };
export type EmailInput = Schemas["LinkRequestIn"];
/** A native app's magic link also carries a PKCE challenge and its `redirectTo` (see createPkcePair). */
export type MagicLinkInput = Schemas["MagicLinkIn"];
export type ExchangeCodeInput = Omit<Schemas["TokenIn"], "options">;

export type LoginResult =
  | { kind: "signedIn"; session: Session }
  | { kind: "mfaRequired"; mfaToken: string; methods: MfaMethod[] };

/** With AUTHGATE_REQUIRE_EMAIL_VERIFICATION=true, registering starts no session yet. */
export type RegisterResult =
  | { kind: "signedIn"; session: Session }
  | { kind: "verificationRequired"; registration: Registration };

/** Where bearer mode keeps its two tokens. May be async (a native app's secure store). */
export interface TokenStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** A WebAuthn credential descriptor in JSON form (the id base64url). */
export interface PasskeyDescriptorJSON {
  type: "public-key";
  id: string;
  transports?: string[];
}

/**
 * WebAuthn Level 3's `PublicKeyCredentialCreationOptionsJSON`, as authgate sends it (binary
 * fields base64url): what `PublicKeyCredential.parseCreationOptionsFromJSON()` takes.
 */
export interface PasskeyCreationOptionsJSON {
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { type: "public-key"; alg: number }[];
  timeout?: number;
  excludeCredentials?: PasskeyDescriptorJSON[];
  authenticatorSelection?: {
    authenticatorAttachment?: string;
    residentKey?: string;
    requireResidentKey?: boolean;
    userVerification?: string;
  };
  hints?: string[];
  attestation?: string;
  extensions?: Record<string, unknown>;
}

/** WebAuthn Level 3's `PublicKeyCredentialRequestOptionsJSON`: what `parseRequestOptionsFromJSON()` takes. */
export interface PasskeyRequestOptionsJSON {
  challenge: string;
  timeout?: number;
  rpId?: string;
  allowCredentials?: PasskeyDescriptorJSON[];
  userVerification?: string;
  hints?: string[];
  extensions?: Record<string, unknown>;
}

/** A credential's `toJSON()` (binary fields base64url): what authgate verifies. */
export interface PasskeyCredentialJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: {
    clientDataJSON: string;
    /** Registration. */
    attestationObject?: string;
    /** Authentication. */
    authenticatorData?: string;
    signature?: string;
    userHandle?: string | null;
    [field: string]: unknown;
  };
  authenticatorAttachment?: string | null;
  clientExtensionResults: Record<string, unknown>;
}

/**
 * How the client reaches an authenticator. The default is the browser's
 * `navigator.credentials` with `PublicKeyCredential.parse…FromJSON()` and `credential.toJSON()`;
 * pass one where there is no browser (Node, a native app's bridge, tests).
 */
export interface WebAuthnAdapter {
  create(options: PasskeyCreationOptionsJSON, request: { signal?: AbortSignal }): Promise<PasskeyCredentialJSON>;
  get(
    options: PasskeyRequestOptionsJSON,
    request: { mediation?: CredentialMediation; signal?: AbortSignal },
  ): Promise<PasskeyCredentialJSON>;
}

/** `navigator.credentials.get`'s `mediation`: "conditional" offers passkeys in the autofill of an input with `autocomplete="username webauthn"`. */
export type CredentialMediation = "conditional" | "optional" | "required" | "silent";

export interface AddPasskeyInput extends PasskeyProof {
  /** 1 to 100 characters; authgate names it "Passkey" otherwise. */
  name?: string;
  signal?: AbortSignal;
}

export interface SignInWithPasskeyInput {
  /** "conditional" for the autofill (conditional UI); it waits until a passkey is picked or `signal` aborts. */
  mediation?: CredentialMediation;
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** authgate's URL with the route prefix you use, e.g. "https://auth.example.com/api/auth". */
  baseUrl: string;
  mode: "cookie" | "bearer";
  /** Defaults to the global fetch; pass one to add logging, a cookie jar, or a test double. */
  fetch?: Fetch;
  /** Bearer mode only. Defaults to memory, so a reload signs out. */
  storage?: TokenStorage;
  /** Passkeys: defaults to the browser's WebAuthn (`navigator.credentials`). */
  webauthn?: WebAuthnAdapter;
}

/** A problem document answered by authgate, thrown by every method except `fetch`. */
export class AuthgateError extends Error {
  readonly status: number;
  /** The stable error code: `invalid_credentials`, `token_expired`, `validation_failed`, … */
  readonly code: string;
  readonly detail: string;
  /** Which fields are at fault, for `validation_failed`. */
  readonly errors: Problem["errors"];
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.name = "AuthgateError";
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail;
    this.errors = problem.errors;
    this.problem = problem;
  }
}

/** Keeps tokens in this page or process only. */
export function memoryStorage(): TokenStorage {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key),
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}

/**
 * A PKCE pair (RFC 7636, S256) for a sign-in that finishes in another app or browser:
 * send `codeChallenge` when starting it, keep `codeVerifier`, and give both the returned
 * `code` and the verifier to `exchangeCode`. Whoever intercepts the code lacks the verifier.
 */
export async function createPkcePair(): Promise<{
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: "S256";
}> {
  const codeVerifier = base64url(crypto.getRandomValues(new Uint8Array(32))); // 43 characters
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier));
  return { codeVerifier, codeChallenge: base64url(new Uint8Array(digest)), codeChallengeMethod: "S256" };
}

/** The browser's WebAuthn: options parsed from JSON, the credential sent back as `toJSON()`. */
export function browserWebAuthn(): WebAuthnAdapter {
  type Parse = (options: unknown) => unknown;
  function api() {
    const PKC = (globalThis as { PublicKeyCredential?: { parseCreationOptionsFromJSON?: Parse; parseRequestOptionsFromJSON?: Parse } })
      .PublicKeyCredential;
    const credentials = (globalThis as { navigator?: { credentials?: CredentialsContainer } }).navigator?.credentials;
    if (!PKC?.parseCreationOptionsFromJSON || !PKC.parseRequestOptionsFromJSON || !credentials) {
      throw new DOMException(
        "Passkeys need WebAuthn with PublicKeyCredential.parseCreationOptionsFromJSON(), or a webauthn adapter given to createClient",
        "NotSupportedError",
      );
    }
    return { PKC: PKC as Required<typeof PKC>, credentials };
  }
  function json(credential: Credential | null): PasskeyCredentialJSON {
    if (!credential) throw new DOMException("No passkey was returned", "NotAllowedError");
    return (credential as PublicKeyCredential).toJSON() as PasskeyCredentialJSON;
  }
  return {
    async create(options, { signal }) {
      const { PKC, credentials } = api();
      const publicKey = PKC.parseCreationOptionsFromJSON(options) as PublicKeyCredentialCreationOptions;
      return json(await credentials.create({ publicKey, signal }));
    },
    async get(options, { mediation, signal }) {
      const { PKC, credentials } = api();
      const publicKey = PKC.parseRequestOptionsFromJSON(options) as PublicKeyCredentialRequestOptions;
      return json(await credentials.get({ publicKey, mediation, signal }));
    },
  };
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const ACCESS_KEY = "authgate.accessToken";
const REFRESH_KEY = "authgate.refreshToken";
const JSON_ACCEPT = { Accept: "application/json" };
// The 401 codes after which a refresh may help: the access token expired or is no longer good.
const REFRESHABLE = new Set(["invalid_token", "token_expired"]);

export type AuthgateClient = ReturnType<typeof createClient>;

export function createClient(options: ClientOptions) {
  const bearer = options.mode === "bearer";
  if (!bearer && options.mode !== "cookie") throw new TypeError('mode must be "cookie" or "bearer"');
  if (!bearer && options.storage) {
    throw new TypeError("storage is for bearer mode: in cookie mode the tokens stay in HttpOnly cookies");
  }
  const base = options.baseUrl.replace(/\/+$/, "");
  const send: Fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const storage = options.storage ?? memoryStorage();
  const webauthn = options.webauthn ?? browserWebAuthn();
  // Bearer mode asks for no cookies: the tokens travel in bodies and headers only.
  const cookieOptions = bearer ? { options: { setCookie: false } } : {};

  let refreshing: Promise<Session> | undefined;
  let generation = 0; // counts new access tokens, so a failed request can tell whether one arrived since

  function request(path: string, init: RequestInit, token?: string | null): Promise<Response> {
    const headers = new Headers(init.headers);
    if (token && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${token}`);
    const url = /^https?:\/\//i.test(path) ? path : base + (path.startsWith("/") ? path : `/${path}`);
    return send(url, { ...init, headers, credentials: bearer ? "omit" : "include" });
  }

  function post(path: string, body?: object, token?: string | null): Promise<Response> {
    return request(path, jsonInit("POST", body), token);
  }

  async function accessToken(): Promise<string | null | undefined> {
    return bearer ? storage.get(ACCESS_KEY) : undefined;
  }

  async function signedIn(session: Session): Promise<Session> {
    if (bearer) {
      await storage.set(ACCESS_KEY, session.accessToken);
      if (session.refreshToken) await storage.set(REFRESH_KEY, session.refreshToken);
    }
    generation += 1;
    return session;
  }

  async function signedOut(): Promise<void> {
    if (bearer) {
      await storage.remove(ACCESS_KEY);
      await storage.remove(REFRESH_KEY);
    }
  }

  /** Waits for a refresh in flight, so no request goes out with a token it is replacing. */
  async function settled(): Promise<number> {
    if (refreshing) await refreshing.catch(() => undefined);
    return generation;
  }

  async function needsRefresh(response: Response): Promise<boolean> {
    if (response.status !== 401) return false;
    const problem = await response.clone().json().catch(() => undefined);
    return REFRESHABLE.has(problem?.code);
  }

  /** Sends with the session's credentials; on an expired or invalid access token, refreshes once and retries once. */
  async function authedFetch(path: string, init: RequestInit = {}): Promise<Response> {
    const seen = await settled();
    const response = await request(path, init, await accessToken());
    if (!(await needsRefresh(response))) return response;
    // Another caller may have refreshed while this request was out: then only retry.
    if (generation === seen) {
      try {
        await refresh();
      } catch {
        return response; // the session is over; the caller sees the original 401
      }
    }
    await settled();
    return request(path, init, await accessToken());
  }

  /**
   * One refresh at a time: authgate rotates the refresh token on every use and ends the whole
   * session when a rotated token is presented again, so concurrent callers share one request.
   */
  function refresh(): Promise<Session> {
    refreshing ??= (async () => {
      const body = bearer ? { refreshToken: (await storage.get(REFRESH_KEY)) ?? undefined, ...cookieOptions } : undefined;
      const response = await post("/refresh", body);
      if (response.status === 401) await signedOut(); // the session is gone: drop its tokens
      return signedIn(await parse<Session>(response));
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  /** A first-factor sign-in by POST, asking for cookies in cookie mode only. */
  async function signIn(path: string, body: object): Promise<LoginResult> {
    return loginResult(await post(path, { ...body, ...cookieOptions }));
  }

  /** A sign-in's answer: a session, or the MFA step (401 `mfa_required`) as a result, not an error. */
  async function loginResult(response: Response): Promise<LoginResult> {
    if (response.status === 401) {
      const error = await toError(response);
      const { mfaToken, mfaMethods } = error.problem;
      if (error.code === "mfa_required" && mfaToken) return { kind: "mfaRequired", mfaToken, methods: mfaMethods ?? [] };
      throw error;
    }
    return { kind: "signedIn", session: await signedIn(await parse<Session>(response)) };
  }

  /** A ceremony's start: its `challengeId`, to send back with the credential, and WebAuthn's JSON options. */
  async function ceremonyOptions<O>(response: Response): Promise<{ challengeId: string; options: O }> {
    const started = await parse<Schemas["OptionsOut"]>(response);
    return { challengeId: started.challengeId, options: started.options as O };
  }

  return {
    mode: options.mode,

    /** Creates an account; it is signed in at once unless the server requires a verified email first. */
    async register(input: RegisterInput): Promise<RegisterResult> {
      // Register sets cookies only when asked to: cookie mode asks.
      const response = await post("/register", { ...input, options: { setCookie: !bearer } });
      const answer = await parse<Session | Registration>(response);
      return "accessToken" in answer
        ? { kind: "signedIn", session: await signedIn(answer) }
        : { kind: "verificationRequired", registration: answer };
    },

    /** Password (or PIN) sign-in. With MFA on, finish it with `verifyMfa`. */
    async login(input: LoginInput): Promise<LoginResult> {
      return signIn("/login", input);
    },

    /** The second step of a sign-in: the `mfaToken` from `login` and a code of one of its methods. */
    async verifyMfa(input: VerifyMfaInput): Promise<Session> {
      return signedIn(await parse<Session>(await post("/mfa/verify", { ...input, ...cookieOptions })));
    },

    refresh,

    /** Ends the session on the server and forgets its tokens, even if the server cannot be reached. */
    async logout(): Promise<void> {
      await settled();
      try {
        const body = bearer ? { refreshToken: (await storage.get(REFRESH_KEY)) ?? undefined } : undefined;
        const response = await post("/logout", body, await accessToken());
        if (!response.ok) throw await toError(response);
      } finally {
        await signedOut();
      }
    },

    async getUser(): Promise<CurrentUser> {
      return parse<CurrentUser>(await authedFetch("/user", { headers: JSON_ACCEPT }));
    },

    /** Emails a sign-in link; the answer is the same whether or not the account exists. */
    async requestMagicLink(input: MagicLinkInput): Promise<Message> {
      return parse<Message>(await post("/login/magic", input));
    },

    /**
     * Finishes a magic link that opened the app's own page (AUTHGATE_APP_URL): pass the `token`
     * from the page's query. Like login, it may answer mfaRequired.
     */
    async signInWithMagicLink(token: string): Promise<LoginResult> {
      return loginResult(await request(`/login/magic/${encodeURIComponent(token)}`, { headers: JSON_ACCEPT }));
    },

    async verifyEmail(token: string): Promise<EmailVerified> {
      // A link made with redirectTo answers 302 to the app; do not follow it into the app's HTML.
      const init: RequestInit = { headers: JSON_ACCEPT, redirect: "manual" };
      const response = await request(`/email/verify/${encodeURIComponent(token)}`, init);
      if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
        return { message: "Email verified", emailVerified: true };
      }
      return parse<EmailVerified>(response);
    },

    /** Emails a password reset link; the answer is the same whether or not the account exists. */
    async forgotPassword(input: EmailInput): Promise<Message> {
      return parse<Message>(await post("/password/forgot", input));
    },

    /** Sets a new password with the token from the reset link; every session of the user ends. */
    async resetPassword(token: string, password: string): Promise<Message> {
      return parse<Message>(await post(`/password/reset/${encodeURIComponent(token)}`, { password }));
    },

    /**
     * Finishes a magic-link or social sign-in started with a PKCE challenge (see createPkcePair):
     * the `code` the app's redirect received, and the verifier the app kept. The second factor
     * is asked here, so this too may answer mfaRequired.
     */
    async exchangeCode(input: ExchangeCodeInput): Promise<LoginResult> {
      return signIn("/token", input);
    },

    createPkcePair,

    /**
     * Adds a passkey to the signed-in account: authgate's options, the authenticator's new
     * credential, and authgate's check of it. A sensitive change: without a sign-in of the last
     * few minutes, pass `currentPassword` or `mfaCode` (else 401 `reauthentication_required`).
     * The authenticator's own refusals (cancelled, one of this account's passkeys is already
     * there) are its DOMException (`NotAllowedError`, `InvalidStateError`).
     */
    async addPasskey(input: AddPasskeyInput = {}): Promise<Passkey> {
      const { name, signal, currentPassword, mfaCode } = input;
      const started = await ceremonyOptions<PasskeyCreationOptionsJSON>(
        await authedFetch("/passkeys/register/options", jsonInit("POST", { currentPassword, mfaCode })),
      );
      const credential = await webauthn.create(started.options, { signal });
      const body = { challengeId: started.challengeId, credential, name };
      return parse<Passkey>(await authedFetch("/passkeys/register/verify", jsonInit("POST", body)));
    },

    /** The signed-in account's passkeys, oldest first. */
    async listPasskeys(): Promise<Passkey[]> {
      return parse<Passkey[]>(await authedFetch("/passkeys", { headers: JSON_ACCEPT }));
    },

    async renamePasskey(id: string, name: string): Promise<Passkey> {
      return parse<Passkey>(await authedFetch(`/passkeys/${encodeURIComponent(id)}`, jsonInit("PUT", { name })));
    },

    /**
     * Removes one of the account's passkeys. Like adding one, it needs a recent sign-in or a
     * `proof`; the account's last way in is kept (409 `last_sign_in_method`).
     */
    async deletePasskey(id: string, proof?: PasskeyProof): Promise<void> {
      const response = await authedFetch(`/passkeys/${encodeURIComponent(id)}`, jsonInit("DELETE", proof));
      if (!response.ok) throw await toError(response);
    },

    /**
     * Signs in with a passkey (a discoverable credential: no identifier asked). Like `login`, it
     * may answer mfaRequired when the account has a second factor. With `mediation:
     * "conditional"` the browser offers the passkeys in an input's autofill and this waits until
     * one is picked; abort `signal` to stop waiting (a button's own sign-in must, first). Options
     * last 5 minutes: a later answer is 400 `invalid_token`, and a new call starts again.
     */
    async signInWithPasskey(input: SignInWithPasskeyInput = {}): Promise<LoginResult> {
      const { mediation, signal } = input;
      const started = await ceremonyOptions<PasskeyRequestOptionsJSON>(
        await request("/passkeys/login/options", { ...jsonInit("POST"), signal }),
      );
      const credential = await webauthn.get(started.options, { mediation, signal });
      return signIn("/passkeys/login/verify", { challengeId: started.challengeId, credential });
    },

    /**
     * The second step of a sign-in with one of the account's passkeys, when `methods` lists
     * "passkey": the `mfaToken` from `login` (or another first step). A refused passkey is 401
     * `invalid_mfa_code` and spends one try of the token.
     */
    async verifyMfaWithPasskey(mfaToken: string, input: { signal?: AbortSignal } = {}): Promise<Session> {
      const { signal } = input;
      const started = await ceremonyOptions<PasskeyRequestOptionsJSON>(await post("/mfa/passkey/options", { mfaToken }));
      const credential = await webauthn.get(started.options, { signal });
      const body = { mfaToken, challengeId: started.challengeId, credential, method: "passkey", ...cookieOptions };
      return signedIn(await parse<Session>(await post("/mfa/verify", body)));
    },

    /**
     * fetch with the session's credentials, for authgate's other endpoints (a path under
     * baseUrl) or your own API (an absolute URL). Refreshes once on an expired token and
     * retries once, so `init.body` must be re-sendable (a string, not a stream).
     * Like fetch, it answers HTTP errors with the response rather than throwing.
     */
    fetch: authedFetch,
  };
}

/** A request with a JSON body, or none when `body` is undefined; it can be sent again (a string). */
function jsonInit(method: string, body?: object): RequestInit {
  if (body === undefined) return { method, headers: JSON_ACCEPT };
  return { method, headers: { ...JSON_ACCEPT, "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

async function parse<T>(response: Response): Promise<T> {
  if (!response.ok) throw await toError(response);
  return (await response.json()) as T;
}

async function toError(response: Response): Promise<AuthgateError> {
  const body: unknown = await response.json().catch(() => undefined);
  if (isProblem(body)) return new AuthgateError(body);
  return new AuthgateError({
    type: "about:blank",
    title: response.statusText || "Unexpected response",
    status: response.status,
    detail: `authgate answered ${response.status} without a problem document`,
    code: "unexpected_response",
  });
}

function isProblem(body: unknown): body is Problem {
  const candidate = body as Partial<Problem> | null | undefined;
  return typeof candidate?.code === "string" && typeof candidate.status === "number";
}
