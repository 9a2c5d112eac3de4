import { loadConfig, type Config } from "./config.js";
import { createManagedIdentityCredential } from "./azure/credential.js";
import { createAzureServices, type AzureServices } from "./azure/compose.js";
import { loadPolicyPack, type PolicyPack } from "./policy/load.js";
import type { Policy } from "./policy/policy.js";
import { judgeGrantEvent, type JudgeOutcome } from "./usecases/judgeGrantEvent.js";

/** What the function app holds for its lifetime: settings, adapters and the compiled policies. */
export interface Runtime {
  readonly config: Config;
  readonly services: AzureServices;
  readonly policies: readonly Policy[];
  readonly pack: PolicyPack;
  judgeGrantEvent(raw: unknown): Promise<JudgeOutcome>;
}

/** Builds the runtime from the environment: settings, managed identity, SDK clients, policies. */
export async function createRuntime(env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  const config = loadConfig(env);
  const credential = createManagedIdentityCredential({ clientId: config.managedIdentityClientId, timeoutMs: config.tokenTimeoutMs });
  const services = createAzureServices(config, credential);
  const pack = await loadPolicyPack(config.policiesDir);
  return {
    config,
    services,
    policies: pack.policies,
    pack,
    judgeGrantEvent: (raw) => judgeGrantEvent(raw, { ...services, policies: pack.policies, exemptions: pack.exemptions, now: () => new Date() }),
  };
}

let shared: Promise<Runtime> | undefined;

/** The process-wide runtime, built on first use; a failed build is retried on the next call. */
export function getRuntime(): Promise<Runtime> {
  shared ??= createRuntime().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}
