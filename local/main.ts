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
import { loadTrustedLocalTls } from "./tls.js";

const USAGE = `Usage: npm start -- [options]

Starts the local Azure (Azurite + the Azure simulator) seeded with a tenant snapshot, runs
grantguard's functions in the dev host, and delivers role-assignment events to them.

Options:
  --tenant FILE    tenant snapshot to seed the simulator (default: the demo tenant)
  --events FILE    JSON array of Event Grid / CloudEvents events to deliver, in order,
                   instead of the scripted story
  --policies DIR   policy directory (default: the built-in pack in policies/)
  --once           exit when every event is processed (default: stay up for your own events)
  --json           print, as the last thing on stdout, {"findings":[…],"rejectedEvents":[…],
                   "deadLetteredEvents":[…]} read back from Table Storage; logs go to stderr
  --port N         port of the dev host (default: a free port)
  -h, --help       show this help

Exit code: 0 when every event was delivered, 1 when one was dead-lettered, 2 on bad input.`;

const DEMO_TENANT = fileURLToPath(new URL("./demo/tenant.json", import.meta.url));

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
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
  const stop = () => (stopped ??= Promise.all([host.stop(), local.stop()]).then(() => undefined));
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

  try {
    const runtime = await getRuntime();
    say(`grantguard: ${runtime.policies.length} policies loaded from ${runtime.config.policiesDir}`);
    say(`grantguard: ARM and Graph at ${local.simulator.url}, Table Storage at ${local.azurite.tableEndpoint}`);
    say("grantguard: mode audit — findings are recorded; nothing is revoked.\n");

    if (events) {
      say(`Delivering ${events.length} event(s) from ${args.events}…`);
      await grid.publish(events);
    } else {
      await playStory(local.simulator, grid, say);
    }
    await grid.settled();

    if (args.json) {
      const findings = await runtime.services.findings.list();
      const rejectedEvents = await runtime.services.ledger.list({ outcome: "rejected" });
      process.stdout.write(`${JSON.stringify({ findings, rejectedEvents, deadLetteredEvents: deadLettered })}\n`);
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

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`grantguard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
