import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate, type KeyObject } from "node:crypto";
import selfsigned from "selfsigned";

/** Claims the simulator puts in (and reads back from) the v1.0 access tokens ARM and Graph accept. */
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

/** An RSA key pair the local Entra ID signs with, and what its key set publishes about it. */
export interface SigningKey {
  /** The key id in token headers and the JWKS: the certificate's SHA-1 thumbprint, base64url (Entra's kid equals its x5t). */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The self-signed certificate, base64 DER (the JWKS's x5c); null for a throwaway key that no key set publishes. */
  readonly certificate: string | null;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** A fresh 2048-bit RSA signing key with a self-signed certificate, as Entra ID publishes its keys. */
export async function createSigningKey(): Promise<SigningKey> {
  const pems = await selfsigned.generate([{ name: "commonName", value: "grantguard local Entra ID token signing" }], {
    keySize: 2048,
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
  });
  const certificate = new X509Certificate(pems.cert);
  const privateKey = createPrivateKey(pems.private);
  return { kid: b64url(createHash("sha1").update(certificate.raw).digest()), privateKey, publicKey: createPublicKey(privateKey), certificate: certificate.raw.toString("base64") };
}

/** A key no key set publishes: what a forger signs with. `kid` may copy a real key's id to look genuine. */
export function createThrowawayKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, publicKey, certificate: null };
}

/** A compact JWS over `payload`; RS256 with `key`, or an unsigned token (alg "none", empty signature) when `key` is null. */
export function signJwt(header: Readonly<Record<string, unknown>>, payload: Readonly<Record<string, unknown>>, key: SigningKey | null): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return key ? `${input}.${b64url(sign("sha256", Buffer.from(input), key.privateKey))}` : `${input}.`;
}

/** The v1.0 issuer of a tenant: what ARM and Graph tokens carry (`https://sts.windows.net/{tid}/`). */
export const v1Issuer = (tenantId: string) => `https://sts.windows.net/${tenantId}/`;

/**
 * Issues and verifies the v1.0 access tokens that ARM and Microsoft Graph accept, signed with the
 * local Entra ID's key: the managed-identity endpoint issues them, ARM and Graph verify them.
 */
export class TokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly tenantId: () => string,
  ) {}

  issue(claims: TokenClaims): string {
    // v1.0 tokens carry both x5t and kid, with the same value.
    return signJwt({ typ: "JWT", alg: "RS256", x5t: this.key.kid, kid: this.key.kid }, { ...claims, ver: "1.0" }, this.key);
  }

  /** The token's claims when its key, signature, issuer, lifetime and audience hold; otherwise why not. */
  verify(token: string, audiences: readonly string[], nowSeconds: number): { ok: true; claims: TokenClaims } | { ok: false; reason: string; code?: string } {
    const [header, payload, signature] = token.split(".");
    if (!header || !payload || !signature) return { ok: false, reason: "the token is not a signed JWT" };
    let parsedHeader: { alg?: unknown; kid?: unknown };
    let claims: TokenClaims;
    try {
      parsedHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown; kid?: unknown };
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
    } catch {
      return { ok: false, reason: "the token is not a JWT" };
    }
    if (parsedHeader.alg !== "RS256") return { ok: false, reason: "the token signature algorithm is not accepted" };
    if (parsedHeader.kid !== this.key.kid) return { ok: false, reason: "the token is signed with an unknown key" };
    if (!verify("sha256", Buffer.from(`${header}.${payload}`), this.key.publicKey, Buffer.from(signature, "base64url"))) {
      return { ok: false, reason: "the token signature is invalid" };
    }
    const tenantIssuer = v1Issuer(this.tenantId());
    if (claims.iss !== tenantIssuer) {
      return {
        ok: false,
        code: "InvalidAuthenticationTokenTenant",
        reason: `The access token is from the wrong issuer '${String(claims.iss)}'. It must match the tenant '${tenantIssuer}' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${this.tenantId()}' to get the token.`,
      };
    }
    if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) return { ok: false, reason: "the token has expired" };
    if (typeof claims.nbf !== "number" || claims.nbf > nowSeconds + 300) return { ok: false, reason: "the token is not yet valid" };
    const aud = String(claims.aud).replace(/\/+$/, "");
    if (!audiences.some((a) => a.replace(/\/+$/, "") === aud)) return { ok: false, reason: `the token audience ${String(claims.aud)} is not accepted here` };
    return { ok: true, claims };
  }
}
