import type { TokenCredential } from "@azure/identity";
import { CryptographyClient, KeyClient, type KeyVaultKey } from "@azure/keyvault-keys";
import type { JsonWebKey } from "node:crypto";
import type { DigestSigner, PublicKeyResolver } from "../audit/digest.js";
import { statusOf } from "../errors.js";

/**
 * Key Vault's client checks that the resource its 401 challenge names is the vault's own domain
 * (*.vault.azure.net and the other clouds'). A vault on this machine's loopback can only be the
 * local Azure, whose challenge names the real resource (https://vault.azure.net) as Azure's does:
 * only there is that check off. Everywhere else it stays on.
 */
export function keyVaultClientOptions(vaultUrl: string): { disableChallengeResourceVerification: boolean } {
  const host = new URL(vaultUrl).hostname;
  return { disableChallengeResourceVerification: host === "127.0.0.1" || host === "localhost" || host === "[::1]" };
}

/** A Key Vault client for the vault grantguard signs its digests with. */
export function createKeyClient(vaultUrl: string, credential: TokenCredential): KeyClient {
  return new KeyClient(vaultUrl, credential, keyVaultClientOptions(vaultUrl));
}

/**
 * Signs digests with a Key Vault key (RS256): grantguard's identity needs keys/get and keys/sign
 * ("Key Vault Crypto User"), never the private key, which does not leave the vault.
 */
export class KeyVaultDigestSigner implements DigestSigner {
  #current: Promise<{ keyId: string; client: CryptographyClient }> | undefined;

  constructor(
    private readonly keys: KeyClient,
    private readonly keyName: string,
    private readonly credential: TokenCredential,
  ) {}

  // The key's current version, read once per process: a digest names the exact version that signed it.
  #resolve(): Promise<{ keyId: string; client: CryptographyClient }> {
    this.#current ??= this.keys.getKey(this.keyName).then(
      (key) => {
        if (!key.id) throw new TypeError(`Key Vault returned key ${this.keyName} without an id`);
        return { keyId: key.id, client: new CryptographyClient(key.id, this.credential, keyVaultClientOptions(this.keys.vaultUrl)) };
      },
      (error: unknown) => {
        this.#current = undefined;
        throw error;
      },
    );
    return this.#current;
  }

  async keyId(): Promise<string> {
    return (await this.#resolve()).keyId;
  }

  async sign(sha256: Uint8Array): Promise<Uint8Array> {
    const { client } = await this.#resolve();
    return (await client.sign("RS256", sha256)).result;
  }
}

/**
 * The public halves of the signing key's versions, from Key Vault (keys/get). Only versions of the
 * configured key in the configured vault are trusted: a digest naming any other key is unverifiable,
 * never checked against a key its forger chose.
 */
export function keyVaultPublicKeys(keys: KeyClient, keyName: string): PublicKeyResolver {
  const prefix = `${keys.vaultUrl.replace(/\/+$/, "")}/keys/${keyName}/`.toLowerCase();
  return async (keyId) => {
    if (!keyId.toLowerCase().startsWith(prefix)) return null;
    const version = keyId.slice(prefix.length);
    if (!/^[0-9a-zA-Z-]+$/.test(version)) return null;
    let key: KeyVaultKey;
    try {
      key = await keys.getKey(keyName, { version });
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
    if (key.keyType !== "RSA" && key.keyType !== "RSA-HSM") return null;
    const { n, e } = key.key ?? {};
    if (!n || !e) return null;
    const jwk: JsonWebKey = { kty: "RSA", n: Buffer.from(n).toString("base64url"), e: Buffer.from(e).toString("base64url") };
    return jwk;
  };
}
