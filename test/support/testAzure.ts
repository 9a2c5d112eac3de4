import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { readTenantSnapshot, type TenantSnapshot } from "../../shared/model/snapshot.js";
import { createRuntime, type Runtime } from "../../shared/runtime.js";
import { startLocalAzure, type LocalAzure } from "../../local/localAzure.js";
import { loadTrustedLocalTls } from "../../local/tls.js";

export const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));

/** Reads a JSON fixture (events are edited per test, so each call returns a fresh copy). */
export async function readFixture<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await readFile(fixture(path), "utf8")) as T;
}

let tables = 0;

/** The local Azure for one test file, and fresh runtimes (own tables) for each test that wants one. */
export interface TestAzure {
  readonly local: LocalAzure;
  /** A runtime built as the function app builds it, writing to tables no other test uses. */
  runtime(settings?: Record<string, string>): Promise<Runtime>;
  stop(): Promise<void>;
}

/** Starts Azurite and the simulator seeded with a tenant fixture, and points this process at them. */
export async function startTestAzure(tenant: string | TenantSnapshot = "tenants/small.json", options: { pageSize?: number } = {}): Promise<TestAzure> {
  const local = await startLocalAzure({ snapshot: typeof tenant === "string" ? await readTenantSnapshot(fixture(tenant)) : tenant, tls: await loadTrustedLocalTls(), pageSize: options.pageSize });
  // The managed-identity credential reads IDENTITY_ENDPOINT/IDENTITY_HEADER from process.env.
  Object.assign(process.env, local.settings);
  return {
    local,
    runtime: (settings = {}) => {
      tables += 1;
      const suffix = `${process.pid}x${tables}`;
      return createRuntime({
        ...process.env,
        GRANTGUARD_FINDINGS_TABLE: `findings${suffix}`,
        GRANTGUARD_EVENTS_TABLE: `events${suffix}`,
        GRANTGUARD_ALERTS_TABLE: `alerts${suffix}`,
        GRANTGUARD_REVOCATIONS_TABLE: `revocations${suffix}`,
        ...settings,
      });
    },
    stop: () => local.stop(),
  };
}
