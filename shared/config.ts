import { z } from "zod";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./errors.js";

/**
 * The directory holding package.json, whether this file runs from shared/ or dist/shared/: what
 * ships beside the code (the built-in pack) is found from here, in a build as in the sources.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The built-in policy pack. */
export const BUILT_IN_POLICIES_DIR = join(packageRoot(), "policies");

const httpsUrl = z.url({ protocol: /^https$/, message: "must be an https:// URL" }).transform((u) => u.replace(/\/+$/, ""));
// Webhook URLs carry their own secrets: https, except a receiver on this machine's loopback.
const webhookUrl = z.url({ message: "must be a URL" }).refine((u) => u.startsWith("https://") || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(u), "must be https:// (plain http only to loopback)");
const csv = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((x) => x.trim()).filter((x) => x !== ""));

// Entra ID object and application ids are GUIDs (not necessarily RFC 4122 variants).
const guidList = csv.pipe(z.array(z.guid({ message: "must be GUIDs, comma-separated" })));

const routeSchema = z.strictObject({
  channels: z.array(z.enum(["teams", "slack", "webhook"])).min(1),
  minSeverity: z.enum(["low", "medium", "high", "critical"]).default("low"),
  maxSeverity: z.enum(["low", "medium", "high", "critical"]).default("critical"),
  /** Policy ids; a trailing * matches a prefix. Absent: every policy. */
  policies: z.array(z.string()).optional(),
  /** Subscription ids. Absent: every scope. */
  subscriptions: z.array(z.string()).optional(),
  /** Collect into the periodic digest instead of sending at once. */
  digest: z.boolean().default(false),
});
export type AlertRoute = z.infer<typeof routeSchema>;

const routesSchema = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of routes" });
      return z.NEVER;
    }
  })
  .pipe(z.array(routeSchema).optional());

/** Daily at 03:00 (UTC unless WEBSITE_TIME_ZONE says otherwise). */
export const DEFAULT_SWEEP_SCHEDULE = "0 0 3 * * *";

const settingsSchema = z.object({
  GRANTGUARD_ARM_ENDPOINT: httpsUrl.default("https://management.azure.com"),
  GRANTGUARD_GRAPH_ENDPOINT: httpsUrl.default("https://graph.microsoft.com"),
  GRANTGUARD_TABLE_ENDPOINT: httpsUrl,
  GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: z.guid({ message: "must be the Log Analytics workspace id (a GUID)" }).optional(),
  // The query client's endpoint includes the API version.
  GRANTGUARD_LOG_ANALYTICS_ENDPOINT: httpsUrl.default("https://api.loganalytics.io/v1"),
  GRANTGUARD_FINDINGS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("findings"),
  GRANTGUARD_EVENTS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("grantEvents"),
  GRANTGUARD_ACCESS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("accessHistory"),
  GRANTGUARD_POLICIES_DIR: z.string().min(1).default(BUILT_IN_POLICIES_DIR),
  GRANTGUARD_ROLE_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3_600),
  GRANTGUARD_TOKEN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  AZURE_CLIENT_ID: z.uuid().optional(),
  GRANTGUARD_MODE: z.enum(["audit", "enforce"]).default("audit"),
  GRANTGUARD_WEBHOOK_URL: webhookUrl.optional(),
  GRANTGUARD_WEBHOOK_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  GRANTGUARD_TEAMS_WEBHOOK_URL: webhookUrl.optional(),
  GRANTGUARD_SLACK_WEBHOOK_URL: webhookUrl.optional(),
  GRANTGUARD_ALERT_ROUTES: routesSchema,
  GRANTGUARD_ALERT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  GRANTGUARD_ALERT_RETRY_BASE_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  GRANTGUARD_ALERT_SUMMARY_THRESHOLD: z.coerce.number().int().min(1).max(1_000_000).default(20),
  GRANTGUARD_ALERTS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("alerts"),
  GRANTGUARD_REVOCATIONS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("revocations"),
  GRANTGUARD_MAX_REVOCATIONS: z.coerce.number().int().min(0).max(1000).default(5),
  GRANTGUARD_REVOCATION_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  GRANTGUARD_PROTECTED_PRINCIPALS: csv,
  GRANTGUARD_PROTECTED_SCOPES: csv,
  GRANTGUARD_AUTH_TENANT_ID: z.guid({ message: "must be the tenant id (a GUID)" }).optional(),
  GRANTGUARD_AUTH_AUDIENCE: guidList,
  GRANTGUARD_AUTH_AUTHORITY: httpsUrl.default("https://login.microsoftonline.com"),
  GRANTGUARD_AUDIT_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("auditTrail"),
  GRANTGUARD_AUDIT_CONTAINER: z.string().regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "must be a valid container name").default("audit-digests"),
  GRANTGUARD_KEY_VAULT_URL: httpsUrl.optional(),
  GRANTGUARD_AUDIT_KEY: z.string().regex(/^[0-9A-Za-z-]{1,127}$/, "must be a Key Vault key name").default("grantguard-audit"),
  // The standing sweep: its shards on a Storage queue, its staged evidence in a blob container, its runs in a table.
  GRANTGUARD_QUEUE_ENDPOINT: httpsUrl.optional(),
  // Blob Storage: the sweep stages its plan there, the audit trail appends its signed digests.
  GRANTGUARD_BLOB_ENDPOINT: httpsUrl.optional(),
  GRANTGUARD_SWEEP_SCHEDULE: z
    .string()
    .trim()
    .regex(/^\S+( \S+){5}$/, "must be an NCRONTAB expression of six fields (second minute hour day month day-of-week), e.g. 0 0 3 * * *")
    .default(DEFAULT_SWEEP_SCHEDULE),
  GRANTGUARD_SWEEP_RUNS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("sweepRuns"),
  GRANTGUARD_SWEEP_CONTAINER: z.string().regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "must be a valid blob container name (3-63 lower-case letters, digits and single hyphens)").default("sweeps"),
  GRANTGUARD_SWEEP_SHARD_ASSIGNMENTS: z.coerce.number().int().min(1).max(100_000).default(10_000),
  GRANTGUARD_SWEEP_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(730).default(90),
})
  .refine((s) => !s.GRANTGUARD_WEBHOOK_URL || s.GRANTGUARD_WEBHOOK_SECRET, { message: "GRANTGUARD_WEBHOOK_SECRET is required when GRANTGUARD_WEBHOOK_URL is set", path: ["GRANTGUARD_WEBHOOK_SECRET"] })
  .refine((s) => !s.GRANTGUARD_AUTH_TENANT_ID || s.GRANTGUARD_AUTH_AUDIENCE.length > 0, { message: "is required when GRANTGUARD_AUTH_TENANT_ID is set: the client id of grantguard's API app registration", path: ["GRANTGUARD_AUTH_AUDIENCE"] })
  .refine((s) => s.GRANTGUARD_AUTH_TENANT_ID || s.GRANTGUARD_AUTH_AUDIENCE.length === 0, { message: "is required when GRANTGUARD_AUTH_AUDIENCE is set", path: ["GRANTGUARD_AUTH_TENANT_ID"] })
  .refine((s) => !s.GRANTGUARD_KEY_VAULT_URL || s.GRANTGUARD_BLOB_ENDPOINT, { message: "is required when GRANTGUARD_KEY_VAULT_URL is set: the audit digests are appended to a blob", path: ["GRANTGUARD_BLOB_ENDPOINT"] });

/** The validated, frozen settings of one process. */
export interface Config {
  readonly armEndpoint: string;
  readonly graphEndpoint: string;
  readonly tableEndpoint: string;
  /** The Log Analytics workspace the sweep reads sign-ins and activity from; null when none is set (log facts stay unknown). */
  readonly logAnalytics: LogAnalyticsConfig | null;
  readonly findingsTable: string;
  readonly eventsTable: string;
  /** Who held which role where, and when: the access history's intervals. */
  readonly accessTable: string;
  readonly policiesDir: string;
  readonly roleCacheTtlMs: number;
  readonly tokenTimeoutMs: number;
  /** Client id of a user-assigned managed identity; absent means system-assigned. */
  readonly managedIdentityClientId: string | undefined;
  readonly response: ResponseConfig;
  /** Who may call grantguard's HTTP API: null when the Entra ID settings are absent (the API then refuses every call). */
  readonly auth: AuthConfig | null;
  readonly audit: AuditConfig;
  readonly sweep: SweepConfig;
}

/** The audit trail: its table, and where its signed digests go (null until a Key Vault key and a blob container are set). */
export interface AuditConfig {
  readonly table: string;
  readonly digests: { readonly blobEndpoint: string; readonly container: string; readonly keyVaultUrl: string; readonly keyName: string } | null;
}

/** Where the standing sweep keeps its shards, staged evidence and run records, and how it splits a tenant. */
export interface SweepConfig {
  /** https://{account}.queue.core.windows.net (or Azurite's); null when unset (the sweep then refuses to run, saying so). */
  readonly queueEndpoint: string | null;
  readonly blobEndpoint: string | null;
  readonly schedule: string;
  readonly runsTable: string;
  readonly container: string;
  /** About how many assignments one shard judges (a partition is never split). */
  readonly shardAssignments: number;
  readonly lookbackDays: number;
}

/** Where the sweep's KQL runs. */
export interface LogAnalyticsConfig {
  readonly workspaceId: string;
  /** https://api.loganalytics.io/v1, another cloud's, or the local simulator's (with /v1). */
  readonly endpoint: string;
}

/** The Entra ID tenant and API registration whose access tokens grantguard's HTTP API accepts. */
export interface AuthConfig {
  readonly tenantId: string;
  /** The API's client id(s): v2.0 access tokens carry the client id as aud. */
  readonly audiences: readonly string[];
  /** https://login.microsoftonline.com, another cloud's, or the local simulator. */
  readonly authority: string;
}

/** How grantguard responds: alert channels and routes, revocation mode and its guard rails. */
export interface ResponseConfig {
  /** audit (default): record and alert what would be revoked; enforce: revoke when every guard rail allows. */
  readonly mode: "audit" | "enforce";
  readonly channels: { readonly teams?: string; readonly slack?: string; readonly webhook?: { readonly url: string; readonly secret: string } };
  readonly routes: readonly AlertRoute[];
  readonly alertMaxAttempts: number;
  /** First retry delay; each later one doubles, up to an hour. */
  readonly alertRetryBaseMs: number;
  /** More alerts than this for one channel in one dispatch round go out as one summary instead of one message each. */
  readonly alertSummaryThreshold: number;
  readonly alertsTable: string;
  readonly revocationsTable: string;
  readonly maxRevocations: number;
  readonly revocationWindowMs: number;
  readonly protectedPrincipals: readonly string[];
  readonly protectedScopes: readonly string[];
}

/** Default routes: every configured channel; medium and above at once, low in the digest. */
function defaultRoutes(channels: ResponseConfig["channels"]): AlertRoute[] {
  const all = (["teams", "slack", "webhook"] as const).filter((c) => channels[c] !== undefined);
  if (all.length === 0) return [];
  return [
    { channels: [...all], minSeverity: "medium", maxSeverity: "critical", digest: false },
    { channels: [...all], minSeverity: "low", maxSeverity: "low", digest: true },
  ];
}

/** Reads and validates the settings from an environment; throws ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid settings: ${problems}`);
  }
  const s = parsed.data;
  return Object.freeze({
    armEndpoint: s.GRANTGUARD_ARM_ENDPOINT,
    graphEndpoint: s.GRANTGUARD_GRAPH_ENDPOINT,
    tableEndpoint: s.GRANTGUARD_TABLE_ENDPOINT,
    logAnalytics: s.GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID ? { workspaceId: s.GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID.toLowerCase(), endpoint: s.GRANTGUARD_LOG_ANALYTICS_ENDPOINT } : null,
    findingsTable: s.GRANTGUARD_FINDINGS_TABLE,
    eventsTable: s.GRANTGUARD_EVENTS_TABLE,
    accessTable: s.GRANTGUARD_ACCESS_TABLE,
    policiesDir: s.GRANTGUARD_POLICIES_DIR,
    roleCacheTtlMs: s.GRANTGUARD_ROLE_CACHE_TTL_SECONDS * 1000,
    tokenTimeoutMs: s.GRANTGUARD_TOKEN_TIMEOUT_MS,
    managedIdentityClientId: s.AZURE_CLIENT_ID,
    response: responseConfig(s),
    audit: {
      table: s.GRANTGUARD_AUDIT_TABLE,
      digests: s.GRANTGUARD_KEY_VAULT_URL && s.GRANTGUARD_BLOB_ENDPOINT ? { blobEndpoint: s.GRANTGUARD_BLOB_ENDPOINT, container: s.GRANTGUARD_AUDIT_CONTAINER, keyVaultUrl: s.GRANTGUARD_KEY_VAULT_URL, keyName: s.GRANTGUARD_AUDIT_KEY } : null,
    },
    sweep: {
      queueEndpoint: s.GRANTGUARD_QUEUE_ENDPOINT ?? null,
      blobEndpoint: s.GRANTGUARD_BLOB_ENDPOINT ?? null,
      schedule: s.GRANTGUARD_SWEEP_SCHEDULE,
      runsTable: s.GRANTGUARD_SWEEP_RUNS_TABLE,
      container: s.GRANTGUARD_SWEEP_CONTAINER,
      shardAssignments: s.GRANTGUARD_SWEEP_SHARD_ASSIGNMENTS,
      lookbackDays: s.GRANTGUARD_SWEEP_LOOKBACK_DAYS,
    },
    auth: s.GRANTGUARD_AUTH_TENANT_ID ? { tenantId: s.GRANTGUARD_AUTH_TENANT_ID.toLowerCase(), audiences: s.GRANTGUARD_AUTH_AUDIENCE.map((a) => a.toLowerCase()), authority: s.GRANTGUARD_AUTH_AUTHORITY } : null,
  });
}

function responseConfig(s: z.infer<typeof settingsSchema>): ResponseConfig {
  const channels: ResponseConfig["channels"] = {
    ...(s.GRANTGUARD_TEAMS_WEBHOOK_URL ? { teams: s.GRANTGUARD_TEAMS_WEBHOOK_URL } : {}),
    ...(s.GRANTGUARD_SLACK_WEBHOOK_URL ? { slack: s.GRANTGUARD_SLACK_WEBHOOK_URL } : {}),
    ...(s.GRANTGUARD_WEBHOOK_URL && s.GRANTGUARD_WEBHOOK_SECRET ? { webhook: { url: s.GRANTGUARD_WEBHOOK_URL, secret: s.GRANTGUARD_WEBHOOK_SECRET } } : {}),
  };
  const routes = s.GRANTGUARD_ALERT_ROUTES ?? defaultRoutes(channels);
  const unconfigured = [...new Set(routes.flatMap((r) => r.channels))].filter((c) => channels[c] === undefined);
  if (unconfigured.length) throw new ConfigError(`invalid settings: GRANTGUARD_ALERT_ROUTES names channel(s) with no URL set: ${unconfigured.join(", ")}`);
  return {
    mode: s.GRANTGUARD_MODE,
    channels,
    routes,
    alertMaxAttempts: s.GRANTGUARD_ALERT_MAX_ATTEMPTS,
    alertRetryBaseMs: s.GRANTGUARD_ALERT_RETRY_BASE_SECONDS * 1000,
    alertSummaryThreshold: s.GRANTGUARD_ALERT_SUMMARY_THRESHOLD,
    alertsTable: s.GRANTGUARD_ALERTS_TABLE,
    revocationsTable: s.GRANTGUARD_REVOCATIONS_TABLE,
    maxRevocations: s.GRANTGUARD_MAX_REVOCATIONS,
    revocationWindowMs: s.GRANTGUARD_REVOCATION_WINDOW_MINUTES * 60_000,
    protectedPrincipals: s.GRANTGUARD_PROTECTED_PRINCIPALS.map((p) => p.toLowerCase()),
    protectedScopes: s.GRANTGUARD_PROTECTED_SCOPES,
  };
}
