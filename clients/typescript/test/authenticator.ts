// A software passkey authenticator, and the browser around it, for the tests: what
// navigator.credentials.create/get would answer on a page at `origin`, as `credential.toJSON()`.
// P-256 keys (COSE ES256) from node:crypto; the attestation object and the COSE key in CBOR
// (cborg); attestation "none"; discoverable credentials kept in memory.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { encode } from "cborg";
import type {
  CredentialMediation,
  PasskeyCreationOptionsJSON,
  PasskeyCredentialJSON,
  PasskeyRequestOptionsJSON,
  WebAuthnAdapter,
} from "@authgate/client";

const ES256 = -7;
// Authenticator data flags (WebAuthn L3 §6.1): user present, user verified, backup eligible,
// backed up, attested credential data included.
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

export interface StoredPasskey {
  id: Buffer;
  rpId: string;
  userHandle: string; // base64url, as the options gave it
  privateKey: KeyObject;
  signCount: number;
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();

export class SoftwareAuthenticator implements WebAuthnAdapter {
  readonly passkeys: StoredPasskey[] = [];
  /** What each `get` was asked: to check the client's mediation and options. */
  readonly requests: { options: PasskeyRequestOptionsJSON; mediation?: CredentialMediation | undefined }[] = [];

  /** `origin` is the page's; `synced` makes backup-eligible (and backed-up) passkeys. */
  constructor(
    readonly origin: string,
    readonly settings: { synced?: boolean } = {},
  ) {}

  async create(options: PasskeyCreationOptionsJSON, { signal }: { signal?: AbortSignal } = {}): Promise<PasskeyCredentialJSON> {
    signal?.throwIfAborted();
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    this.checkRpId(rpId);
    if (!options.pubKeyCredParams.some((param) => param.alg === ES256)) throw new DOMException("no ES256", "NotSupportedError");
    const excluded = new Set((options.excludeCredentials ?? []).map((descriptor) => descriptor.id));
    if (this.passkeys.some((passkey) => excluded.has(b64url(passkey.id)))) {
      throw new DOMException("this authenticator already holds one of the account's passkeys", "InvalidStateError");
    }

    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    // COSE_Key (RFC 9053): kty EC2, alg ES256, crv P-256, x, y.
    const coseKey = encode(
      new Map<number, number | Buffer>([
        [1, 2],
        [3, ES256],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, "base64url")],
        [-3, Buffer.from(jwk.y!, "base64url")],
      ]),
    );
    const id = randomBytes(16);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const aaguid = Buffer.alloc(16); // none: "none" attestation
    const authData = Buffer.concat([this.authData(rpId, AT, 0), aaguid, idLength, id, coseKey]);
    const attestationObject = encode({ fmt: "none", attStmt: {}, authData });
    this.passkeys.push({ id, rpId, userHandle: options.user.id, privateKey, signCount: 0 });

    return {
      id: b64url(id),
      rawId: b64url(id),
      type: "public-key",
      response: {
        clientDataJSON: this.clientData("webauthn.create", options.challenge),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ["internal"],
        publicKeyAlgorithm: ES256,
        publicKey: b64url(publicKey.export({ format: "der", type: "spki" })),
      },
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
    };
  }

  async get(
    options: PasskeyRequestOptionsJSON,
    { mediation, signal }: { mediation?: CredentialMediation; signal?: AbortSignal } = {},
  ): Promise<PasskeyCredentialJSON> {
    signal?.throwIfAborted();
    this.requests.push({ options, mediation });
    const rpId = options.rpId ?? new URL(this.origin).hostname;
    this.checkRpId(rpId);
    const allowed = new Set((options.allowCredentials ?? []).map((descriptor) => descriptor.id));
    // The user picks the newest of the passkeys on offer (any of this RP's when the list is empty).
    const passkey = this.passkeys
      .filter((candidate) => candidate.rpId === rpId && (allowed.size === 0 || allowed.has(b64url(candidate.id))))
      .at(-1);
    if (!passkey) throw new DOMException("no passkey for this site", "NotAllowedError");

    passkey.signCount += 1;
    const authData = this.authData(rpId, 0, passkey.signCount);
    const clientDataJSON = this.clientData("webauthn.get", options.challenge);
    // ES256: ECDSA over SHA-256 of authData || sha256(clientDataJSON), DER-encoded (node's default).
    const signature = sign("sha256", Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, "base64url"))]), passkey.privateKey);
    return {
      id: b64url(passkey.id),
      rawId: b64url(passkey.id),
      type: "public-key",
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: passkey.userHandle,
      },
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
    };
  }

  /** A browser refuses an RP ID that is not the page's host or a parent domain of it. */
  private checkRpId(rpId: string): void {
    const host = new URL(this.origin).hostname;
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      throw new DOMException(`the RP ID ${rpId} does not match the page's origin ${this.origin}`, "SecurityError");
    }
  }

  private authData(rpId: string, extraFlags: number, signCount: number): Buffer {
    const backup = this.settings.synced ? BE | BS : 0;
    const header = Buffer.alloc(37);
    sha256(rpId).copy(header, 0);
    header[32] = UP | UV | backup | extraFlags;
    header.writeUInt32BE(signCount, 33);
    return header;
  }

  private clientData(type: string, challenge: string): string {
    return b64url(Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false })));
  }
}

/**
 * The origin of the page the tests play: authgate's public URL's origin, with a loopback host
 * written `localhost` (the server's default allowed origin; a browser allows passkeys there, and
 * the RP ID is then `localhost`).
 */
export function pageOrigin(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (["127.0.0.1", "[::1]"].includes(url.hostname)) url.hostname = "localhost";
  return url.origin;
}
