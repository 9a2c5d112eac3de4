import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readTenantSnapshot } from "../shared/model/snapshot.js";
import { getRuntime } from "../shared/runtime.js";
import { describeError } from "../shared/errors.js";
import { DevHost, type HostLog } from "./devhost.js";
import { LocalEventGrid, type DeliveryOutcome } from "./eventGrid.js";
import { startLocalAzure } from "./localAzure.js";
import { playStory } from "./story.js";
import { shareWithCommandLine } from "./commandLine.js";
import { runSummary, sweepSummary, type SweepReport } from "./summary.js";
import type { Runtime } from "../shared/runtime.js";
import { loadTrustedLocalTls } from "./tls.js";
import { WebhookReceiver } from "./webhookReceiver.js";
import { randomBytes } from "node:crypto";
import { setUpPageSignIn } from "./demoUsers.js";

const USAGE = `Usage: npm start -- [options]

Starts the local Azure (Azurite + the Azure simulator) seeded with a tenant snapshot, runs
grantguard's functions in the dev host, and delivers role-assignment events to them.

Options:
  --tenant FILE    tenant snapshot to seed the simulator (default: the demo tenant)
  --events FILE    JSON array of Event Grid / CloudEvents events to deliver, in order,
                   instead of the scripted story
  --policies DIRS  policy directories, comma-separated (default: the built-in pack in policies/);
                   e.g. policies,local/demo/revoke-pack adds the demo's revoke policy
  --once           exit when every event is processed (default: stay up for your own events)
  --sweep [N]      after the story or the events, run N standing sweeps (default 1): the
                   sweepTenant timer fired through the dev host's admin API, its shards taken
                   from the Storage queue; one line per sweep
  --json           print, as the last thing on stdout, {"findings":[…],"rejectedEvents":[…],
                   "revocations":[…],"alerts":[…],"deadLetteredEvents":[…],"sweeps":[…]} read
                   back from Table Storage; logs go to stderr

Environment: GRANTGUARD_MODE=enforce revokes where a revoke policy matches and every guard
rail allows (default: audit). Alerts go to a local webhook receiver that verifies their
signatures, unless GRANTGUARD_WEBHOOK_URL, GRANTGUARD_TEAMS_WEBHOOK_URL or
GRANTGUARD_SLACK_WEBHOOK_URL are set.
  --port N         port of the dev host (default: a free port)
  -h, --help       show this help

Exit code: 0 when every event was delivered, 1 when one was dead-lettered, 2 on bad input.`;

const DEMO_TENANT = fileURLToPath(new URL("./demo/tenant.json", import.meta.url));

/** `--sweep [N]`: the count (default 1) taken out of argv, since parseArgs has no optional values; null when absent. */
function takeSweepOption(argv: readonly string[]): { readonly sweeps: number | null; readonly rest: string[] } {
  const rest: string[] = [];
  let sweeps: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = /^--sweep=(.*)$/.exec(arg);
    if (arg !== "--sweep" && !inline) {
      rest.push(arg);
      continue;
    }
    let text = inline?.[1];
    if (text === undefined && /^\d+$/.test(argv[i + 1] ?? "")) text = argv[++i];
    const n = text === undefined ? 1 : Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new TypeError(`--sweep takes a number of sweeps from 1 to 100, got '${text}'`);
    sweeps = n;
  }
  return { sweeps, rest };
}

// How long one sweep of the local tenant may take before npm start gives up waiting for its run record.
const SWEEP_TIMEOUT_MS = 10 * 60_000;

async function main(): Promise<number> {
  let args;
  let sweepCount: number | null;
  try {
    const taken = takeSweepOption(process.argv.slice(2));
    sweepCount = taken.sweeps;
    args = parseArgs({
      args: taken.rest,
      options: {
        tenant: { type: "string" },
        events: { type: "string" },
        policies: { type: "string" },
        once: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        port: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const say = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);

  let events: unknown[] | undefined;
  try {
    if (args.events) {
      const parsed: unknown = JSON.parse(await readFile(args.events, "utf8"));
      if (!Array.isArray(parsed)) throw new Error(`${args.events} must hold a JSON array of events`);
      events = parsed;
    }
  } catch (error) {
    process.stderr.write(`grantguard: cannot read events: ${describeError(error)}\n`);
    return 2;
  }
  const port = args.port === undefined ? 0 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`grantguard: --port must be a port number, got '${args.port}'\n`);
    return 2;
  }

  const tenantFile = args.tenant ?? DEMO_TENANT;
  const snapshot = await readTenantSnapshot(tenantFile);
  const tls = await loadTrustedLocalTls();
  say(`grantguard local: starting Azurite and the Azure simulator with ${tenantFile} (${snapshot.roleAssignments.length} role assignments, ${snapshot.principals.length} principals)…`);
  const local = await startLocalAzure({ snapshot, tls });
  Object.assign(process.env, local.settings, args.policies ? { GRANTGUARD_POLICIES_DIR: args.policies } : {});
  // Alerts reach a receiver on loopback that checks each signature, unless real channels are set.
  const ownChannels = ["GRANTGUARD_WEBHOOK_URL", "GRANTGUARD_TEAMS_WEBHOOK_URL", "GRANTGUARD_SLACK_WEBHOOK_URL"].some((k) => process.env[k]);
  const receiverSecret = randomBytes(32).toString("hex");
  const receiver = ownChannels ? undefined : new WebhookReceiver({ secret: receiverSecret });
  if (receiver) {
    await receiver.start();
    Object.assign(process.env, { GRANTGUARD_WEBHOOK_URL: receiver.url("/grantguard"), GRANTGUARD_WEBHOOK_SECRET: receiverSecret, GRANTGUARD_ALERT_RETRY_BASE_SECONDS: process.env.GRANTGUARD_ALERT_RETRY_BASE_SECONDS ?? "1" });
  }

  const host = new DevHost((log: HostLog) => say(`${new Date().toISOString().slice(11, 19)} ${log.functionName} ${log.level === "error" ? "ERROR " : ""}${log.message}`));
  await host.start(port);
  const deadLettered: DeliveryOutcome[] = [];
  const grid = new LocalEventGrid({
    endpoint: host.eventGridUrl("judgeGrantEvent"),
    onOutcome: (outcome) => {
      if (outcome.status === "deadLettered") {
        deadLettered.push(outcome);
        say(`event ${outcome.eventId} DEAD-LETTERED after ${outcome.attempts} attempts: ${outcome.lastError}`);
      } else if (outcome.attempts > 1) {
        say(`event ${outcome.eventId} delivered on attempt ${outcome.attempts}`);
      }
    },
  });
  local.simulator.onResourceEvent((event) => void grid.publish([event]));

  let stopped: Promise<void> | undefined;
  let commandLine: Awaited<ReturnType<typeof shareWithCommandLine>> | undefined;
  const stop = () => (stopped ??= Promise.all([host.stop(), local.stop(), receiver?.stop(), commandLine?.remove()]).then(() => undefined));
  // Ctrl-C reaches this process twice (from the terminal and forwarded by the launcher):
  // the handlers stay installed, and only the first signal starts the shutdown.
  let interrupted: () => void = () => undefined;
  const interruption = new Promise<void>((resolve) => (interrupted = resolve));
  let signalled = false;
  let finished = false; // true once the run's work is done and only the shutdown is left
  const onSignal = () => {
    if (signalled) return;
    signalled = true;
    say("\nstopping…");
    interrupted();
    void stop().finally(() => {
      if (!finished) process.exit(130);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Started by local/trusted.ts: if that launcher dies (killed, even with SIGKILL), stop too. The
  // channel itself must not keep this process alive.
  process.on("disconnect", onSignal);
  process.channel?.unref();

  try {
    const runtime = await getRuntime();
    say(`grantguard: ${runtime.policies.length} policies loaded from ${runtime.config.policiesDir}`);
    say(`grantguard: ARM and Graph at ${local.simulator.url}, Table Storage at ${local.azurite.tableEndpoint}`);
    const r = runtime.config.response;
    say(
      r.mode === "audit"
        ? "grantguard: mode AUDIT (the default) — revoke policies record and alert what they would revoke; nothing is deleted.\n            To revoke: GRANTGUARD_MODE=enforce npm start -- --policies policies,local/demo/revoke-pack"
        : `grantguard: mode ENFORCE — revoke policies delete the assignment after a backup, unless a guard rail stops it (at most ${r.maxRevocations} in ${r.revocationWindowMs / 60_000} minutes, then revocation stops until re-armed).`,
    );
    say(receiver ? `grantguard: alerts go to a local webhook receiver at ${receiver.url("/grantguard")}, which verifies every signature.` : "grantguard: alerts go to the channels set in the environment.");
    commandLine = await shareWithCommandLine(local, tls, runtime.config, snapshot);
    say(`${commandLine.lines.join("\n")}\n`);
    // The auditors' page and API: the page signs in with the simulator's demo users; for scripts,
    // one JSON line on stdout (always, and before anything else there) with the URLs and the demo users' tokens.
    const pageUrl = host.httpUrl("page");
    const signIn = setUpPageSignIn(local.simulator, snapshot, pageUrl);
    if (signIn) {
      process.stdout.write(`${JSON.stringify({ ready: { api: host.httpUrl(""), page: pageUrl, tokens: signIn.tokens } })}\n`);
      say(`grantguard: the findings page is at ${pageUrl} (sign in as ${signIn.users.auditor.userPrincipalName}, auditor; ${signIn.users.securityAdmin.userPrincipalName}, security admin; or ${signIn.users.noRole.userPrincipalName}, no role; the local sign-in is https with this run's own certificate, which your browser will ask you to accept)`);
      say(`            the API is at ${host.httpUrl("")} (described at ${host.httpUrl("openapi.json")}); the "ready" line above holds an hour's access tokens for the demo users, for example: curl -H "authorization: Bearer $AUDITOR_TOKEN" '${host.httpUrl("findings?status=open")}'`);
    } else {
      say("grantguard: this tenant has too few enabled users for the findings page's demo sign-in.");
    }
    host.startTimers();
    host.startQueues();

    if (events) {
      say(`Delivering ${events.length} event(s) from ${args.events}…`);
      await grid.publish(events);
    } else {
      await playStory(local.simulator, grid, say);
    }
    await grid.settled();
    // Deliver what the outbox holds before the sweeps, so each sweep's alerts are its own.
    await runtime.dispatchAlerts();
    const sweeps: SweepReport[] = [];
    for (let i = 0; i < (sweepCount ?? 0); i++) {
      const sweep = await runSweep(host, runtime);
      sweeps.push(sweep);
      say(sweepSummary(sweep));
    }
    // Deliver what the outbox holds (the digest included) before reporting.
    await runtime.dispatchAlerts();
    const digest = await runtime.sendDigest();
    if (receiver) say(`\nalerts received by the local webhook receiver: ${receiver.uniqueDeliveries().length} (every signature verified: ${receiver.received.every((x) => x.verified !== false)})`);
    say(runSummary(await runtime.services.findings.list(), await runtime.services.deliveries.list(), digest));
    // The end of the run: a signed digest vouches for everything the story appended to the audit trail.
    const audit = await runtime.signAuditDigest();
    if (audit.status === "written") say(`audit trail: records ${audit.digest.fromSeq}–${audit.digest.toSeq} signed with ${audit.digest.keyId} (npx grantguard audit verify)`);

    if (args.json) {
      const findings = await runtime.services.findings.list();
      const rejectedEvents = await runtime.services.ledger.list({ outcome: "rejected" });
      const revocations = (await runtime.services.revocations.list()).map(({ findings: _findings, ...backup }) => ({
        assignmentId: backup.assignmentId,
        policyIds: backup.policyIds,
        mode: runtime.config.response.mode,
        status: backup.status,
        backup,
      }));
      const wouldRevoke = findings
        .filter((f) => f.responseKind === "wouldRevoke" || f.responseKind === "revocationBlocked")
        .map((f) => ({ assignmentId: f.assignmentId, policyIds: [f.policyId], mode: runtime.config.response.mode, status: f.responseKind, detail: f.responseDetail, backup: null }));
      const alerts = (await runtime.services.deliveries.list()).map((d) => ({ channel: d.channel, findingId: d.findingId, alertId: d.alertId, status: d.status, attempts: d.attempts, lastError: d.lastError }));
      process.stdout.write(`${JSON.stringify({ findings, rejectedEvents, revocations: [...revocations, ...wouldRevoke], alerts, deadLetteredEvents: deadLettered, sweeps })}\n`);
    }
    if (args.once) {
      finished = true;
      await stop();
      return deadLettered.length > 0 ? 1 : 0;
    }
    say(`\nThe Event Grid endpoint is open: post your own role-assignment events (Event Grid or CloudEvents 1.0 schema) to
  ${host.eventGridUrl("judgeGrantEvent")}
for example:
  curl -s -H 'aeg-event-type: Notification' -H 'content-type: application/json' --data @local/demo/event-guest-owner.json '${host.eventGridUrl("judgeGrantEvent")}'
Press Ctrl-C to stop.`);
    finished = true;
    await interruption;
    await stop();
    say("stopped.");
    return 0;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * One sweep, as the Functions host's admin API runs a timer (POST /admin/functions/sweepTenant with
 * the master key), then the run record read until every shard has reported.
 */
async function runSweep(host: DevHost, runtime: Runtime): Promise<SweepReport> {
  const runs = runtime.sweep.stores().runs;
  const before = (await runtime.services.deliveries.list()).length;
  const since = new Date().toISOString();
  const response = await fetch(`${host.url}/admin/functions/sweepTenant`, { method: "POST", headers: { "x-functions-key": host.masterKey, "content-type": "application/json" }, body: JSON.stringify({ input: "" }) });
  if (response.status !== 202) throw new Error(`the dev host refused to run sweepTenant: HTTP ${response.status}`);
  const until = Date.now() + SWEEP_TIMEOUT_MS;
  for (;;) {
    const run = (await runs.list({ since })).find((r) => r.status === "succeeded" || r.status === "failed");
    if (run) {
      // The run is closed: the outbox releases its changes, and a round here sends them as the timer would.
      await host.queuesSettled();
      // Until every change of the run is handed to the outbox (the timer may be sending some of them meanwhile).
      const ofRun = async () => (await runtime.services.findings.list({ alertPending: true })).filter((f) => f.lastEventId === `sweep:${run.runId}`).length;
      while ((await runtime.dispatchAlerts()).queued > 0 || (await ofRun()) > 0) {
        if (Date.now() > until) throw new Error(`the alerts of sweep ${run.runId} were not handed to the outbox within ${SWEEP_TIMEOUT_MS / 60_000} minutes`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const alerts = (await runtime.services.deliveries.list()).length - before;
      const durationMs = run.finishedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : null;
      return { id: run.runId, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt, durationMs, assignments: run.counts.assignments, principals: run.counts.principals, shards: run.shards, calls: run.calls, findingWrites: run.counts.findingWrites, resolved: run.counts.resolved, alerts, evidenceGaps: run.evidenceGaps };
    }
    if (Date.now() > until) throw new Error(`the sweep did not finish within ${SWEEP_TIMEOUT_MS / 60_000} minutes (see the sweepShard lines above)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`grantguard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
