import { constants, generateKeyPairSync, privateEncrypt, publicDecrypt, randomBytes, type KeyObject } from "node:crypto";
import { HttpError, type Refusal, type ServiceRequest, type ServiceResponse, type SimulatedService, type SimulatorContext } from "./http.js";

// The Key Vault keys data plane, the slice grantguard uses: create a key, get a key (its public
// half only), sign and verify (azure-rest-api-specs specification/keyvault/data-plane/
// Microsoft.KeyVault/stable/7.5/keys.json and its CreateKey, GetKey, sign and verify examples;
// the challenge from azure-docs key-vault/general/authentication-requests-and-responses.md). The
// vault sits at the simulator's root, as a vault sits at https://{name}.vault.azure.net. Private
// keys are created here and never leave: no route returns or exports them.

/** The resource a Key Vault token is for (and the one its 401 challenge names). */
export const KEY_VAULT_RESOURCE = "https://vault.azure.net";
// The api-versions of the keys API (stable): 7.0 through 7.6, then date versions.
const API_VERSIONS = new Set(["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"]);
const KEY_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"] as const;
// RSASSA-PKCS1-v1_5 signs a DigestInfo: the hash algorithm's ASN.1 prefix, then the digest.
const DIGEST_INFO: Record<string, { prefix: string; bytes: number }> = {
  RS256: { prefix: "3031300d060960864801650304020105000420", bytes: 32 },
  RS384: { prefix: "3041300d060960864801650304020205000430", bytes: 48 },
  RS512: { prefix: "3051300d060960864801650304020305000440", bytes: 64 },
};

/** What a principal may do with the vault's keys (Key Vault RBAC's data actions, in short). */
export type KeyPermission = "create" | "get" | "sign" | "verify";

interface KeyVersion {
  readonly version: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyOps: readonly string[];
  readonly created: number;
}

const kvError = (status: number, code: string, message: string, inner?: string) => new HttpError(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } });

/** The local Key Vault's keys. */
export class KeyVaultService implements SimulatedService {
  readonly #keys = new Map<string, KeyVersion[]>();
  /** Principal object id → what it may do; a principal not listed may do nothing. */
  readonly #grants = new Map<string, Set<KeyPermission>>();

  constructor(private readonly context: SimulatorContext) {}

  /** Grants a principal data actions on the vault's keys, as a Key Vault role assignment would. */
  grant(principalId: string, permissions: readonly KeyPermission[]): void {
    const set = this.#grants.get(principalId.toLowerCase()) ?? new Set<KeyPermission>();
    for (const p of permissions) set.add(p);
    this.#grants.set(principalId.toLowerCase(), set);
  }

  /** Creates a key (or a new version of it), as an administrator would when deploying: returns its full id. */
  createKey(name: string, keySize = 2048, keyOps: readonly string[] = KEY_OPS): string {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: keySize, publicExponent: 0x10001 });
    const version: KeyVersion = { version: randomBytes(16).toString("hex"), privateKey, publicKey, keyOps: [...keyOps], created: Math.floor(Date.now() / 1000) };
    this.#keys.set(name.toLowerCase(), [...(this.#keys.get(name.toLowerCase()) ?? []), version]);
    return this.#kid(name, version);
  }

  /** "keyvault.keys.*" for /keys/… paths; null for any other. */
  routeOf(method: string, lowerPath: string): string | null {
    if (lowerPath !== "/keys" && !lowerPath.startsWith("/keys/")) return null;
    const parts = lowerPath.split("/").slice(2);
    if (parts.length === 2 && parts[1] === "create" && method === "POST") return "keyvault.keys.create";
    if ((parts.length === 1 || parts.length === 2) && method === "GET") return "keyvault.keys.get";
    if (parts.length === 3 && (parts[2] === "sign" || parts[2] === "verify") && method === "POST") return `keyvault.keys.${parts[2]}`;
    return "keyvault.unknown";
  }

  /** Answers a keys request: the challenge without a token, then the token, the api-version, the role and the operation. */
  handle({ route, req, url, path, body }: ServiceRequest): ServiceResponse {
    const tenantId = this.context.state().tenantId;
    // The challenge: where to get a token and for which resource (Key Vault's own, whatever the vault's host).
    const challenge = `Bearer authorization="${this.context.baseUrl()}/${tenantId}", resource="${KEY_VAULT_RESOURCE}"`;
    const refuse: Refusal = (reason, _code, hadToken) => new HttpError(401, { error: { code: "Unauthorized", message: hadToken ? `AKV10032: Invalid token: ${reason}` : "AKV10000: Request is missing a Bearer or PoP token." } }, { "www-authenticate": challenge });
    const claims = this.context.authenticate(req, [KEY_VAULT_RESOURCE], refuse);
    const apiVersion = url.searchParams.get("api-version");
    if (!apiVersion || !API_VERSIONS.has(apiVersion)) throw kvError(400, "BadParameter", apiVersion ? `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (7.6).` : "The api-version query parameter is required.");
    if (route === "keyvault.unknown") throw kvError(404, "NotFound", "The requested resource was not found.");
    const [, , rawName = "", rawVersion = ""] = path.split("/");
    const name = decodeURIComponent(rawName);
    const versionName = route === "keyvault.keys.create" ? "" : decodeURIComponent(rawVersion);
    const permission: KeyPermission = route === "keyvault.keys.create" ? "create" : route === "keyvault.keys.get" ? "get" : route === "keyvault.keys.sign" ? "sign" : "verify";
    const caller = String(claims.oid ?? "").toLowerCase();
    if (!this.#grants.get(caller)?.has(permission)) {
      throw kvError(403, "Forbidden", `Caller is not authorized to perform action on resource.\r\nIf role assignments were recently changed, please wait several minutes for role assignments to become effective.\r\nCaller: oid=${caller};\r\nAction: 'Microsoft.KeyVault/vaults/keys/${permission === "get" ? "read" : permission === "create" ? "create/action" : `${permission}/action`}'\r\nResource: '/keys/${name}'`, "ForbiddenByRbac");
    }
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw kvError(400, "BadParameter", "The request URI contains an invalid name: key names contain 1-127 alphanumeric characters and dashes.");
    const input = (body ?? {}) as Record<string, unknown>;
    if (route === "keyvault.keys.create") return { status: 200, body: this.#create(name, input) };
    const version = this.#version(name, versionName);
    if (route === "keyvault.keys.get") return { status: 200, body: this.#bundle(name, version) };
    const alg = typeof input.alg === "string" ? input.alg : "";
    const info = DIGEST_INFO[alg];
    if (!info) throw kvError(400, "BadParameter", `Invalid algorithm '${alg}' for key type RSA: this vault signs with RS256, RS384 or RS512.`);
    const digest = Buffer.from(typeof (route === "keyvault.keys.sign" ? input.value : input.digest) === "string" ? String(route === "keyvault.keys.sign" ? input.value : input.digest) : "", "base64url");
    if (digest.length !== info.bytes) throw kvError(400, "BadParameter", `Invalid length of digest: ${alg} takes a ${info.bytes}-byte digest, got ${digest.length}.`);
    if (!version.keyOps.includes(permission)) throw kvError(400, "BadParameter", `Operation ${permission} is not permitted on this key.`);
    const message = Buffer.concat([Buffer.from(info.prefix, "hex"), digest]);
    if (route === "keyvault.keys.sign") {
      const signature = privateEncrypt({ key: version.privateKey, padding: constants.RSA_PKCS1_PADDING }, message);
      return { status: 200, body: { kid: this.#kid(name, version), value: signature.toString("base64url") } };
    }
    const signature = Buffer.from(typeof input.value === "string" ? input.value : "", "base64url");
    return { status: 200, body: { value: signatureMatches(version.publicKey, signature, message) } };
  }

  #create(name: string, input: Record<string, unknown>): unknown {
    const kty = input.kty;
    if (kty !== "RSA" && kty !== "RSA-HSM") throw kvError(400, "BadParameter", typeof kty === "string" ? `The local vault creates RSA keys only, not '${kty}'.` : "Property kty is required.");
    const size = input.key_size === undefined ? 2048 : input.key_size;
    if (size !== 2048 && size !== 3072 && size !== 4096) throw kvError(400, "BadParameter", `Invalid key size ${String(size)}: RSA keys are 2048, 3072 or 4096 bits.`);
    const ops = Array.isArray(input.key_ops) ? input.key_ops.map(String) : [...KEY_OPS];
    const unknown = ops.find((op) => !(KEY_OPS as readonly string[]).includes(op));
    if (unknown) throw kvError(400, "BadParameter", `Invalid key operation '${unknown}'.`);
    this.createKey(name, size, ops);
    return this.#bundle(name, this.#version(name, ""));
  }

  #version(name: string, version: string): KeyVersion {
    const versions = this.#keys.get(name.toLowerCase()) ?? [];
    const found = version === "" ? versions[versions.length - 1] : versions.find((v) => v.version === version.toLowerCase());
    if (!found) throw kvError(404, "KeyNotFound", `A key with (name/id) ${name}${version ? `/${version}` : ""} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`);
    return found;
  }

  #kid(name: string, version: KeyVersion): string {
    return `${this.context.baseUrl()}/keys/${name}/${version.version}`;
  }

  // A KeyBundle: the JSON Web Key's public members only, and the attributes.
  #bundle(name: string, version: KeyVersion): unknown {
    const jwk = version.publicKey.export({ format: "jwk" });
    return {
      key: { kid: this.#kid(name, version), kty: "RSA", key_ops: [...version.keyOps], n: jwk.n, e: jwk.e },
      attributes: { enabled: true, created: version.created, updated: version.created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 },
    };
  }
}

/** Whether an RSASSA-PKCS1-v1_5 signature opens to this DigestInfo under the public key (a signature that does not even open does not match). */
function signatureMatches(publicKey: KeyObject, signature: Buffer, digestInfo: Buffer): boolean {
  try {
    return publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature).equals(digestInfo);
  } catch {
    return false;
  }
}
