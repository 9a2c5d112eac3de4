import { z } from "zod";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./errors.js";

// The built-in pack ships beside package.json, whether this file runs from shared/ or dist/shared/.
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const defaultPoliciesDir = join(packageRoot(), "policies");

const httpsUrl = z.url({ protocol: /^https$/, message: "must be an https:// URL" }).transform((u) => u.replace(/\/+$/, ""));

const settingsSchema = z.object({
  GRANTGUARD_ARM_ENDPOINT: httpsUrl.default("https://management.azure.com"),
  GRANTGUARD_GRAPH_ENDPOINT: httpsUrl.default("https://graph.microsoft.com"),
  GRANTGUARD_TABLE_ENDPOINT: httpsUrl,
  GRANTGUARD_FINDINGS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("findings"),
  GRANTGUARD_EVENTS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("grantEvents"),
  GRANTGUARD_POLICIES_DIR: z.string().min(1).default(defaultPoliciesDir),
  GRANTGUARD_ROLE_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3_600),
  GRANTGUARD_TOKEN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  AZURE_CLIENT_ID: z.uuid().optional(),
});

/** The validated, frozen settings of one process. */
export interface Config {
  readonly armEndpoint: string;
  readonly graphEndpoint: string;
  readonly tableEndpoint: string;
  readonly findingsTable: string;
  readonly eventsTable: string;
  readonly policiesDir: string;
  readonly roleCacheTtlMs: number;
  readonly tokenTimeoutMs: number;
  /** Client id of a user-assigned managed identity; absent means system-assigned. */
  readonly managedIdentityClientId: string | undefined;
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
    findingsTable: s.GRANTGUARD_FINDINGS_TABLE,
    eventsTable: s.GRANTGUARD_EVENTS_TABLE,
    policiesDir: s.GRANTGUARD_POLICIES_DIR,
    roleCacheTtlMs: s.GRANTGUARD_ROLE_CACHE_TTL_SECONDS * 1000,
    tokenTimeoutMs: s.GRANTGUARD_TOKEN_TIMEOUT_MS,
    managedIdentityClientId: s.AZURE_CLIENT_ID,
  });
}
