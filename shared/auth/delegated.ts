import type { AccessToken, TokenCredential } from "@azure/identity";
import { decodeJwt } from "jose";
import type { Caller } from "./tokens.js";

/** The header a caller sends its own ARM access token in, beside its grantguard token in Authorization. */
export const ARM_TOKEN_HEADER = "x-grantguard-arm-token";

/** The caller's own ARM credential, or the status to answer and why. */
export type DelegatedArmCredential = { readonly ok: true; readonly credential: TokenCredential } | { readonly ok: false; readonly status: 400 | 403; readonly reason: string };

/**
 * Turns the ARM access token a caller sent into a credential for ARM calls made on its behalf,
 * after checking that it belongs to the caller grantguard already authenticated (same tenant and
 * object id) and has not expired. Its signature is not checked here: ARM checks it on every call,
 * so a forged or altered token gets nothing done; what this check adds is that the identity
 * recorded for the change is the identity ARM authorised.
 */
export function delegatedArmCredential(token: string | null | undefined, caller: Caller, nowSeconds: number): DelegatedArmCredential {
  const usage = `send your own ARM access token in the ${ARM_TOKEN_HEADER} header (e.g. az account get-access-token --resource https://management.azure.com/ --query accessToken -o tsv): restore runs with your own Azure rights`;
  if (!token?.trim()) return { ok: false, status: 400, reason: usage };
  let claims: { tid?: unknown; oid?: unknown; exp?: unknown };
  try {
    claims = decodeJwt(token.trim());
  } catch {
    return { ok: false, status: 400, reason: `the ${ARM_TOKEN_HEADER} header is not an access token; ${usage}` };
  }
  if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) return { ok: false, status: 400, reason: `the ARM access token in ${ARM_TOKEN_HEADER} has expired; get a fresh one` };
  const same = (a: unknown, b: string) => typeof a === "string" && a.toLowerCase() === b.toLowerCase();
  if (!same(claims.tid, caller.tid) || !same(claims.oid, caller.oid)) {
    return { ok: false, status: 403, reason: `the ARM access token in ${ARM_TOKEN_HEADER} is not yours: it must be issued to the same user as the Authorization token` };
  }
  const access: AccessToken = { token: token.trim(), expiresOnTimestamp: claims.exp * 1000 };
  return { ok: true, credential: { getToken: async () => access } };
}
