import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";

/** Claims the simulator puts in (and reads back from) its access tokens. */
export interface TokenClaims {
  readonly aud: string;
  readonly iss: string;
  readonly tid: string;
  readonly oid: string;
  readonly sub: string;
  readonly appid: string | null;
  readonly idtyp: "app" | "user";
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly upn?: string;
  readonly name?: string;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** Signs and verifies RS256 tokens with the local TLS key, shaped like Entra ID access tokens. */
export class TokenIssuer {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  constructor(privateKeyPem: string) {
    this.#privateKey = createPrivateKey(privateKeyPem);
    this.#publicKey = createPublicKey(this.#privateKey);
  }

  issue(claims: TokenClaims): string {
    const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "grantguard-local" }));
    const payload = b64url(JSON.stringify(claims));
    const signature = sign("sha256", Buffer.from(`${header}.${payload}`), this.#privateKey);
    return `${header}.${payload}.${b64url(signature)}`;
  }

  /** The token's claims when its signature, lifetime and audience hold; otherwise why not. */
  verify(token: string, audiences: readonly string[], nowSeconds: number): { ok: true; claims: TokenClaims } | { ok: false; reason: string } {
    const [header, payload, signature] = token.split(".");
    if (!header || !payload || !signature) return { ok: false, reason: "the token is not a JWT" };
    if (!verify("sha256", Buffer.from(`${header}.${payload}`), this.#publicKey, Buffer.from(signature, "base64url"))) {
      return { ok: false, reason: "the token signature is invalid" };
    }
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
    if (claims.exp <= nowSeconds) return { ok: false, reason: "the token has expired" };
    if (claims.nbf > nowSeconds + 300) return { ok: false, reason: "the token is not yet valid" };
    const aud = claims.aud.replace(/\/+$/, "");
    if (!audiences.some((a) => a.replace(/\/+$/, "") === aud)) return { ok: false, reason: `the token audience ${claims.aud} is not accepted here` };
    return { ok: true, claims };
  }
}
