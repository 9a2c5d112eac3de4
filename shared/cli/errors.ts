import { inspect } from "node:util";
import { ConcurrentChangeError, ConfigError, ConflictError, GrantGuardError, isTransient, NotFoundError, PolicyLoadError, PolicyValidationError, SnapshotError, statusOf, StoreCorruptError } from "../errors.js";
import { EXIT } from "./io.js";

// The one place where a failure becomes an exit code and one line a person can act on. Only
// types and structured fields are looked at (statusOf, a system error's code, the URL a failed
// request went to), never message text; --verbose prints the whole error.

/** The command line was used wrongly: the verb's usage is shown with the message. */
export class UsageError extends GrantGuardError {}

/** No credential in the chain could sign in (no `az login`, no service principal, no managed identity). */
export class NoCredentialError extends GrantGuardError {}

/** A credential was there but signing in failed (an expired `az login`, a wrong secret, a token request that never finished). */
export class SignInError extends GrantGuardError {}

/**
 * This process cannot do the work as started: it must run again with these environment variables
 * (Node reads NODE_EXTRA_CA_CERTS only at start-up, so trusting the local Azure's certificate
 * takes a new process). The entry point relaunches; anywhere else it is reported with the fix.
 */
export class RelaunchNeeded extends GrantGuardError {
  constructor(
    message: string,
    readonly env: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** An Azure service a verb reaches, and the permission it needs there: names a refusal for the person who must fix it. */
export interface AzureService {
  /** e.g. "Azure Resource Manager", "Table Storage". */
  readonly name: string;
  /** Its base URL; a failed request is matched to the service by origin. */
  readonly endpoint: string;
  /** What the caller's identity must hold there, e.g. "Storage Table Data Reader on grantguard's storage account". */
  readonly needs: string;
}

/** How a run failed: the exit code and what to print. */
export interface Failure {
  readonly code: number;
  /** One line each; usually exactly one. */
  readonly lines: readonly string[];
  /** Show the verb's usage after the message (bad usage). */
  readonly usage: boolean;
}

/** The URL of the request an Azure SDK error (RestError) is about, looking through causes. */
function requestUrlOf(error: unknown): URL | null {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const url = (e as { request?: { url?: unknown } }).request?.url;
    if (typeof url === "string" && URL.canParse(url)) return new URL(url);
  }
  return null;
}

/** The innermost error that carries an HTTP status or a system error code: what Azure (or the network) said. */
function azureCauseOf(error: unknown): unknown {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (statusOf(e) !== null || systemCodeOf(e) !== null) return e;
  }
  return error;
}

/** A Node system error's code (ECONNREFUSED, ENOTFOUND…) or the SDK's REQUEST_SEND_ERROR: the request got no HTTP answer. */
function systemCodeOf(error: unknown): string | null {
  const code = error && typeof error === "object" ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && statusOf(error) === null ? code : null;
}

/** The first line of an error's message, trimmed to a readable length. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "")?.trim() ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

function serviceOf(error: unknown, services: readonly AzureService[]): { label: string; needs: string | null } {
  const url = requestUrlOf(error);
  if (!url) return { label: "Azure", needs: null };
  const service = services.find((s) => URL.canParse(s.endpoint) && new URL(s.endpoint).origin === url.origin);
  return service ? { label: `${service.name} at ${url.origin}`, needs: service.needs } : { label: url.origin, needs: null };
}

function azureFailure(error: unknown, services: readonly AzureService[]): string | null {
  const cause = azureCauseOf(error);
  const status = statusOf(cause);
  const { label, needs } = serviceOf(cause, services);
  const said = firstLine(cause);
  if (status === 401) return `Azure did not accept the credential (HTTP 401 from ${label}): ${said}. Sign in again (az login) or check AZURE_TENANT_ID.`;
  if (status === 403) return `Azure refused: your identity lacks ${needs ?? "the permission this needs"} (HTTP 403 from ${label}: ${said})`;
  if (status !== null && isTransient(cause)) return `Azure is throttling or unavailable (HTTP ${status} from ${label}, after retries): ${said}. Try again later.`;
  if (status !== null) return `Azure refused the request (HTTP ${status} from ${label}): ${said}`;
  const code = systemCodeOf(cause);
  if (code !== null) return `cannot reach ${label} (${code}): ${said}. Check the endpoint settings and the network.`;
  return null;
}

/**
 * Maps any error a verb threw to its exit code and a one-line explanation: bad usage 64; an
 * invalid file or request 2; anything Azure (credential, refusal, outage, unreachable) 3;
 * anything else is a defect, 70, never 1 (which a pipeline reads as "findings").
 */
export function failureOf(error: unknown, services: readonly AzureService[] = []): Failure {
  const one = (code: number, line: string, usage = false): Failure => ({ code, lines: [`grantguard: ${line}`], usage });
  if (error instanceof UsageError) return one(EXIT.usage, error.message, true);
  if (error instanceof ConfigError) return one(EXIT.usage, error.message);
  if (error instanceof RelaunchNeeded) return one(EXIT.usage, `${error.message}: run it with ${Object.entries(error.env).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  if (error instanceof NoCredentialError || error instanceof SignInError) return one(EXIT.azure, error.message);
  if (error instanceof StoreCorruptError) return one(EXIT.azure, `grantguard's store holds a record it cannot read: ${error.message}`);
  if (error instanceof ConcurrentChangeError) return one(EXIT.azure, `${error.message}: try again`);
  const azure = azureFailure(error, services);
  if (azure !== null) return one(EXIT.azure, azure);
  if (error instanceof PolicyLoadError) return { code: EXIT.invalid, lines: error.errors.map((e) => e.message), usage: false };
  if (error instanceof PolicyValidationError || error instanceof SnapshotError) return one(EXIT.invalid, error.message);
  // Nothing to act on: a revocation that does not exist, or one that deleted nothing to restore.
  if (error instanceof NotFoundError || error instanceof ConflictError) return one(EXIT.invalid, error.message);
  // The flows' other typed errors (an unreadable policy directory…) are about the request, not a defect.
  if (error instanceof GrantGuardError) return one(EXIT.invalid, error.message);
  return one(EXIT.internal, `unexpected failure: ${error instanceof Error ? `${error.name}: ` : ""}${firstLine(error)} (run again with --verbose to see where; this is a defect, please report it)`);
}

/** The whole error, causes and stack included, for --verbose. */
export function verboseReport(error: unknown): string {
  return inspect(error, { depth: 6, breakLength: 120 });
}
