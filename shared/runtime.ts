import { loadConfig, type Config } from "./config.js";
import { createManagedIdentityCredential, principalIdOf } from "./azure/credential.js";
import { deliverRows, dispatchAlerts, dispatchFindings, queueAlert, sendDigest, type DispatchDependencies, type DispatchReport } from "./response/dispatch.js";
import { HttpAlertSender } from "./response/sender.js";
import type { RevocationDependencies } from "./response/revoke.js";
import { describeError } from "./errors.js";
import { createAzureServices, createRoleAssignmentWriter, createSweepServices, type AzureServices, type SweepServices } from "./azure/compose.js";
import { holdingOpenSweeps, parseShardMessage, planSweep, recordFailedShard, sweepShard, type ShardOutcome, type SweepPlan, type SweepRunRecord } from "./usecases/sweepRun.js";
import type { TokenCredential } from "@azure/identity";
import type { RoleAssignmentWriter } from "./response/writer.js";
import { createTokenValidator, type TokenValidator } from "./auth/tokens.js";
import { loadPolicyPack, type PolicyPack } from "./policy/load.js";
import type { Policy } from "./policy/policy.js";
import { judgeGrantEvent, type JudgeDependencies, type JudgeOutcome } from "./usecases/judgeGrantEvent.js";
import { drainLeftovers, type DrainReport } from "./audit/trail.js";
import { writeDigest, type DigestOutcome } from "./audit/digest.js";
import type { AuditorApiDependencies } from "./http/auditors.js";

/** What the function app holds for its lifetime: settings, adapters and the compiled policies. */
export interface Runtime {
  readonly config: Config;
  readonly services: AzureServices;
  readonly policies: readonly Policy[];
  readonly pack: PolicyPack;
  readonly dispatch: DispatchDependencies;
  /** What judging an event needs: adapters, policies, exemptions, revocation's guard rails. */
  readonly judge: JudgeDependencies;
  /** ARM writes with a caller's own credential (restore over HTTP): built by the composition root, like every client. */
  writerFor(credential: TokenCredential): RoleAssignmentWriter;
  /** Validates callers' Entra ID access tokens for the HTTP API; null when GRANTGUARD_AUTH_* are not set. */
  readonly tokens: TokenValidator | null;
  /** What the auditors' API reads and writes: findings, their stories, the access history. */
  readonly auditors: AuditorApiDependencies;
  /** Judges one event, then tries to deliver its alerts at once (the outbox keeps them if that fails). */
  judgeGrantEvent(raw: unknown): Promise<JudgeOutcome & { readonly alerts: DispatchReport | { readonly error: string } }>;
  /** One round of the outbox: queue pending state changes, send what is due. */
  dispatchAlerts(): Promise<DispatchReport>;
  /** Sends the alerts collected for the digest. */
  sendDigest(): Promise<{ readonly sent: number; readonly alerts: number }>;
  /** Appends to the audit trail the changes whose markers are still waiting (an instance died between commit and drain). */
  drainAuditTrail(): Promise<DrainReport>;
  /** Drains, then signs a digest of the records appended since the last one; "notConfigured" without a Key Vault key and a blob container. */
  signAuditDigest(): Promise<DigestOutcome | { readonly status: "notConfigured" }>;
  readonly sweep: SweepServices;
  /** The sweep's timer: plans a run and puts its shards on the queue. */
  planSweep(): Promise<{ readonly runId: string; readonly shards: number; readonly evidenceGaps: readonly string[] }>;
  /** Judges one shard from the queue (the run's alerts leave through the outbox once the run is closed). */
  sweepShard(raw: unknown): Promise<ShardOutcome>;
  /** Marks a shard the queue gave up on (its poison-queue message) as failed in its run. */
  sweepShardFailed(raw: unknown): Promise<SweepRunRecord | null>;
}

// Plans of the runs this process has judged shards of lately: a shard reads its run's plan once per process.
const PLANS_KEPT = 2;

/** Builds the runtime from the environment: settings, managed identity, SDK clients, policies. */
export async function createRuntime(env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  const config = loadConfig(env);
  const credential = createManagedIdentityCredential({ clientId: config.managedIdentityClientId, timeoutMs: config.tokenTimeoutMs });
  const services = createAzureServices(config, credential);
  const pack = await loadPolicyPack(config.policiesDir);
  const now = () => new Date();
  const dispatch: DispatchDependencies = { findings: services.findings, deliveries: services.deliveries, sender: new HttpAlertSender(), response: config.response, now };
  // Only a known identity is kept: a failed or empty look-up is asked again next time.
  let self: string | undefined;
  const revocation: RevocationDependencies = {
    revocations: services.revocations,
    writer: services.writer,
    response: config.response,
    selfPrincipalId: async () => (self ??= (await principalIdOf(credential)) ?? undefined) ?? null,
    raise: async (alert) => void (await deliverRows(dispatch, await queueAlert(dispatch, alert))),
    now,
  };
  const tokens = config.auth ? createTokenValidator(config.auth) : null;
  const judge: JudgeDependencies = { ...services, findings: services.eventFindings, policies: pack.policies, exemptions: pack.exemptions, revocation, now };
  const sweep = createSweepServices(config, credential, services.findings);
  // The outbox timer leaves an open sweep run's changes for the shard that closes the run (when the sweep can run here at all).
  const timerDispatch: DispatchDependencies = config.sweep.queueEndpoint && config.sweep.blobEndpoint ? { ...dispatch, findings: holdingOpenSweeps(services.findings, sweep.stores().runs, now) } : dispatch;
  const plans = new Map<string, Promise<SweepPlan>>();
  const plan = (runId: string) => {
    let found = plans.get(runId);
    if (!found) {
      found = sweep.stores().staging.get(runId);
      found.catch(() => plans.delete(runId));
      plans.set(runId, found);
      while (plans.size > PLANS_KEPT) plans.delete(plans.keys().next().value as string);
    }
    return found;
  };
  return {
    config,
    services,
    sweep,
    planSweep: () => planSweep(sweep.reader(), sweep.stores(), config.sweep, now()),
    // The run's changes wait in the outbox while the run is open; once the last shard closes it, the
    // outbox timer's next round sends them together (one summary per channel past the threshold). The
    // shard does not send them itself: a large round would hold its invocation near the host's time-out.
    sweepShard: (raw) => sweepShard(parseShardMessage(raw), sweep.reader(), sweep.stores(), { policies: pack.policies, exemptions: pack.exemptions, plan, clock: now }),
    sweepShardFailed: (raw) => recordFailedShard(parseShardMessage(raw), sweep.stores().runs, now, "the queue gave up on the shard after its maximum number of deliveries (moved to the poison queue)"),
    policies: pack.policies,
    pack,
    dispatch,
    judge,
    tokens,
    auditors: { tokens, findings: services.findingsReader, deliveries: services.findingDeliveries, revocations: services.revocations, access: services.access, now },
    writerFor: (callerCredential) => createRoleAssignmentWriter(config.armEndpoint, callerCredential),
    async judgeGrantEvent(raw) {
      const outcome = await judgeGrantEvent(raw, judge);
      // The findings are stored with their pending alerts: a failed send here is retried by the timer.
      const written = outcome.status === "judged" ? [...outcome.open, ...outcome.resolved] : outcome.status === "rejected" ? [] : outcome.resolved;
      const alerts = await dispatchFindings(dispatch, written).catch((error: unknown) => ({ error: describeError(error) }));
      // The commit's trail markers were being appended meanwhile: the invocation ends with them in the chain.
      await services.settleTrail();
      return { ...outcome, alerts };
    },
    dispatchAlerts: () => dispatchAlerts(timerDispatch),
    sendDigest: () => sendDigest(dispatch),
    drainAuditTrail: () => drainLeftovers(services.audit.chain, services.audit.markers),
    async signAuditDigest() {
      const digests = services.audit.digests;
      if (!digests) return { status: "notConfigured" as const };
      // What waits in markers belongs to the range this digest covers.
      await drainLeftovers(services.audit.chain, services.audit.markers);
      return writeDigest({ chain: services.audit.chain, store: digests.store, signer: digests.signer, now });
    },
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
