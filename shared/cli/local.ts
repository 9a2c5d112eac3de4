import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { z } from "zod";
import { packageRoot } from "../config.js";

// `npm start` runs a local Azure (Azurite and the simulator) on ports and a certificate made at
// start-up. It writes where they are to .grantguard/local.json while it runs, so the command
// line's response verbs can reach it with no settings: this module reads and writes that file.

/** Overrides where the file lives (a directory); the default is .grantguard/ beside package.json. */
export const LOCAL_DIR_VARIABLE = "GRANTGUARD_LOCAL_DIR";

const localAzureSchema = z.object({
  version: z.literal(1),
  /** The process that serves the local Azure: the file is honoured only while it lives. */
  pid: z.number().int().positive(),
  startedAt: z.string(),
  /** The CA bundle that makes Node trust the local certificate (NODE_EXTRA_CA_CERTS is read only at start-up). */
  caBundle: z.string().min(1),
  /** grantguard's settings for the local Azure: endpoints and table names. */
  settings: z.object({
    GRANTGUARD_TABLE_ENDPOINT: z.string(),
    GRANTGUARD_ARM_ENDPOINT: z.string(),
    GRANTGUARD_GRAPH_ENDPOINT: z.string(),
    GRANTGUARD_REVOCATIONS_TABLE: z.string(),
    GRANTGUARD_ALERTS_TABLE: z.string(),
    // The audit trail: its table, and where its digests and their signing key are (absent from older files).
    GRANTGUARD_AUDIT_TABLE: z.string().optional(),
    GRANTGUARD_BLOB_ENDPOINT: z.string().optional(),
    GRANTGUARD_AUDIT_CONTAINER: z.string().optional(),
    GRANTGUARD_KEY_VAULT_URL: z.string().optional(),
    GRANTGUARD_AUDIT_KEY: z.string().optional(),
    // What the live sweep reads besides: the findings and the Log Analytics workspace.
    GRANTGUARD_FINDINGS_TABLE: z.string().optional(),
    GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: z.string().optional(),
    GRANTGUARD_LOG_ANALYTICS_ENDPOINT: z.string().optional(),
  }),
  /** The App Service style managed-identity endpoint: reads and writes grantguard's tables as the function app does. */
  managedIdentity: z.object({ endpoint: z.string(), header: z.string() }),
  /** The person the command line acts as against ARM: a user of the tenant, whose tokens the local Entra ID issues. */
  operator: z.object({ userId: z.string(), tokenEndpoint: z.string() }),
});

/** What a running `npm start` tells the command line about its local Azure. */
export type LocalAzureFile = z.infer<typeof localAzureSchema>;

/** Where `npm start` writes the file. */
export function localAzureFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env[LOCAL_DIR_VARIABLE] ?? join(packageRoot(), ".grantguard"), "local.json");
}

/** The path as a person would type it from the current directory. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

/** True while a process with this id runs (signal 0 only checks; EPERM means it runs under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The local Azure of a running `npm start`, or null when there is none (no file, or its process has ended). */
export async function readLiveLocalAzure(env: NodeJS.ProcessEnv = process.env): Promise<(LocalAzureFile & { readonly file: string }) | null> {
  const file = localAzureFilePath(env);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null; // half-written or not ours: as good as absent
  }
  const parsed = localAzureSchema.safeParse(raw);
  if (!parsed.success || !alive(parsed.data.pid) || !existsSync(parsed.data.caBundle)) return null;
  return { ...parsed.data, file };
}

/**
 * Writes the file for this process (readable by its owner only: it holds the managed-identity
 * header), atomically, so a command line never reads half of it. Returns its path.
 */
export async function writeLocalAzure(content: LocalAzureFile, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = localAzureFilePath(env);
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(localAzureSchema.parse(content), null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
  return file;
}

/** Removes the file when it still describes this process (another `npm start` may have replaced it). */
export async function removeLocalAzure(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = localAzureFilePath(env);
  try {
    const current = localAzureSchema.safeParse(JSON.parse(await readFile(file, "utf8")));
    if (current.success && current.data.pid !== process.pid) return;
  } catch {
    return;
  }
  await rm(file, { force: true });
}
