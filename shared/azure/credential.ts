import { ManagedIdentityCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from "@azure/identity";
import { GrantGuardError } from "../errors.js";

/** A token request that did not finish in time (a managed-identity endpoint that never answers). */
export class TokenTimeoutError extends GrantGuardError {}

/** Wraps a credential so that no token request can hang longer than `timeoutMs`. */
export function withTokenTimeout(credential: TokenCredential, timeoutMs: number): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const abort = new Promise<never>((_, reject) => {
        controller.signal.addEventListener("abort", () => reject(new TokenTimeoutError(`no token for ${String(scopes)} within ${timeoutMs} ms`)));
      });
      try {
        return await Promise.race([credential.getToken(scopes, { ...options, abortSignal: controller.signal }), abort]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The function's identity: its managed identity (system-assigned, or user-assigned by client id). */
export function createManagedIdentityCredential(options: { clientId: string | undefined; timeoutMs: number }): TokenCredential {
  const credential = options.clientId ? new ManagedIdentityCredential({ clientId: options.clientId }) : new ManagedIdentityCredential();
  return withTokenTimeout(credential, options.timeoutMs);
}

/** The object id (oid claim) of the identity a credential signs in as, read from an ARM token. */
export async function principalIdOf(credential: TokenCredential): Promise<string | null> {
  const token = await credential.getToken("https://management.azure.com/.default");
  const payload = token?.token.split(".")[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { oid?: unknown };
    return typeof claims.oid === "string" ? claims.oid : null;
  } catch {
    return null; // not a JWT: grantguard cannot tell its own id, and says so in the guard rail
  }
}
