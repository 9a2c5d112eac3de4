/** The one base error of grantguard: sets `name` from the subclass and keeps `cause`. */
export class GrantGuardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting is missing or malformed; start-up stops with the setting's name. */
export class ConfigError extends GrantGuardError {}

/** A policy file cannot be loaded: carries the file, line and policy id for the author. */
export class PolicyValidationError extends GrantGuardError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly policyId: string | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line === undefined ? "" : `:${line}`}${policyId ? ` [${policyId}]` : ""}: ${detail}`);
  }
}

/** Thrown when a policy directory has at least one broken file: grantguard will not judge with a partial pack. */
export class PolicyLoadError extends GrantGuardError {
  constructor(readonly errors: readonly PolicyValidationError[]) {
    super(`${errors.length} policy error(s):\n${errors.map((e) => `  ${e.message}`).join("\n")}`);
  }
}

/** A tenant snapshot file does not follow the format. */
export class SnapshotError extends GrantGuardError {}

/** Gives a short, single-line description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === "number" ? `${error.name} (HTTP ${status}): ${error.message}` : `${error.name}: ${error.message}`;
  }
  return String(error);
}

/** Something stored does not parse: never guessed around, always reported with where it is. */
export class StoreCorruptError extends GrantGuardError {}

/** The HTTP status an Azure SDK error carries (`RestError.statusCode`), or null when there is none. */
export function statusOf(error: unknown): number | null {
  const status = typeof error === "object" && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  return typeof status === "number" ? status : null;
}

/**
 * True when the same request may succeed later: throttling, a time-out, a server error, or a
 * failure with no HTTP answer at all (network, token endpoint). Anything else is Azure's final word.
 */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  return status === null || status === 408 || status === 429 || status >= 500;
}

/** Optimistic writes kept losing to concurrent ones: the invocation fails and the platform redelivers. */
export class ConcurrentChangeError extends GrantGuardError {}

/** What was asked for does not exist (HTTP 404; the CLI's "invalid input"). */
export class NotFoundError extends GrantGuardError {}

/** The request contradicts the current state, and repeating it will not help (HTTP 409). */
export class ConflictError extends GrantGuardError {}
