import { spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LOCAL_DIR_VARIABLE, readLiveLocalAzure, removeLocalAzure, writeLocalAzure, type LocalAzureFile } from "../../../shared/cli/local.js";
import { grantguard } from "../../support/cli.js";

async function described(overrides: Partial<LocalAzureFile> = {}): Promise<{ env: NodeJS.ProcessEnv; content: LocalAzureFile }> {
  const dir = await mkdtemp(join(tmpdir(), "gg-local-file-"));
  const caBundle = join(dir, "ca-bundle.pem");
  await writeFile(caBundle, "");
  const content: LocalAzureFile = {
    version: 1,
    pid: process.pid,
    startedAt: "2026-11-21T10:00:00.000Z",
    caBundle,
    settings: { GRANTGUARD_TABLE_ENDPOINT: "https://127.0.0.1:1/devstoreaccount1", GRANTGUARD_ARM_ENDPOINT: "https://127.0.0.1:2", GRANTGUARD_GRAPH_ENDPOINT: "https://127.0.0.1:2", GRANTGUARD_REVOCATIONS_TABLE: "revocations", GRANTGUARD_ALERTS_TABLE: "alerts" },
    managedIdentity: { endpoint: "https://127.0.0.1:2/msi/token", header: "h" },
    operator: { userId: "mia@contoso.com", tokenEndpoint: "https://127.0.0.1:2/_simulator/tokens" },
    ...overrides,
  };
  const env = { [LOCAL_DIR_VARIABLE]: dir };
  await writeLocalAzure(content, env);
  return { env, content };
}

const saved = process.env[LOCAL_DIR_VARIABLE];
afterEach(() => {
  if (saved === undefined) delete process.env[LOCAL_DIR_VARIABLE];
  else process.env[LOCAL_DIR_VARIABLE] = saved;
});

describe("the local Azure file", () => {
  it("is honoured while the process that wrote it runs, and removed by it", async () => {
    const { env, content } = await described();
    expect(await readLiveLocalAzure(env)).toMatchObject(content);
    await removeLocalAzure(env);
    expect(await readLiveLocalAzure(env)).toBeNull();
  });

  it("is ignored once its process has ended or its certificate is gone, so a crashed npm start is never used", async () => {
    const ended = spawnSync(process.execPath, ["-e", "0"]).pid;
    expect(await readLiveLocalAzure((await described({ pid: ended })).env)).toBeNull();
    expect(await readLiveLocalAzure((await described({ caBundle: "/nonexistent/ca-bundle.pem" })).env)).toBeNull();
  });

  it("makes a verb ask for a process that trusts the local certificate, saying how when it cannot start one itself", async () => {
    const { env, content } = await described();
    process.env[LOCAL_DIR_VARIABLE] = env[LOCAL_DIR_VARIABLE];
    const result = await grantguard("revocations", "list");
    expect(result.code).toBe(64);
    expect(result.err).toBe(`grantguard: this process does not trust the local Azure's certificate: run it with NODE_EXTRA_CA_CERTS=${content.caBundle}\n`);
  });
});
