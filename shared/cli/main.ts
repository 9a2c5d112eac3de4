import { failureOf, RelaunchNeeded, verboseReport } from "./errors.js";
import { EXIT, type Io } from "./io.js";
import type { Verb, VerbContext } from "./verb.js";

export { EXIT, type Io } from "./io.js";

// Each verb is its own module, loaded only when it runs: `grantguard --help` loads none of them,
// and only the verbs that reach Azure load the Azure SDKs.
const VERBS: Record<string, { readonly summary: string; readonly load: () => Promise<Verb> }> = {
  evaluate: { summary: "what-if: which assignments of a tenant snapshot each policy matches, and why", load: async () => (await import("./verbs/evaluate.js")).evaluate },
  sweep: { summary: "the standing sweep over a tenant snapshot and its logs: inactive, over-provisioned, unusual granters…", load: async () => (await import("./verbs/sweep.js")).sweep },
  test: { summary: "run every policy's test cases", load: async () => (await import("./verbs/test.js")).test },
  policies: { summary: "the loaded policies and the facts each reads (list), or one in full (show ID)", load: async () => (await import("./verbs/policies.js")).policies },
  validate: { summary: "check policy and exemption files; errors with file:line", load: async () => (await import("./verbs/validate.js")).validate },
  snapshot: { summary: "export: write a tenant snapshot from a live tenant", load: async () => (await import("./verbs/snapshot.js")).snapshot },
  revocations: { summary: "list: what grantguard revoked, with the backups, and the breaker's state", load: async () => (await import("./verbs/revocations.js")).revocations },
  alerts: { summary: "list: alert deliveries, with failures and their last error", load: async () => (await import("./verbs/alerts.js")).alerts },
  restore: { summary: "ID: put a revoked assignment back, with your own credentials", load: async () => (await import("./verbs/restore.js")).restore },
  doctor: { summary: "check a deployment: settings, secrets, rights, Graph permissions, events, workspace, keys", load: async () => (await import("./verbs/doctor.js")).doctor },
  audit: { summary: "verify: check that nobody rewrote the audit trail (live, or an export with --file)", load: async () => (await import("./verbs/audit.js")).audit },
  rearm: { summary: "re-arm revocation after the blast-radius cap stopped it", load: async () => (await import("./verbs/rearm.js")).rearm },
};

const USAGE = `grantguard — Azure RBAC governance: policies as code over role assignments.

Usage: grantguard <command> [options]      (grantguard <command> --help for each)

Commands:
${Object.entries(VERBS)
  .map(([name, verb]) => `  ${name.padEnd(12)} ${verb.summary}`)
  .join("\n")}

Every command takes --help, and --verbose to show the full error when something fails.
Commands that reach Azure use GRANTGUARD_TABLE_ENDPOINT and your Azure sign-in (az login…); in
a development checkout with \`npm start\` running, they use its local Azure instead.

Exit codes: 0 ok; 1 findings at or above --fail-on (evaluate), failed test cases (test) or
failed checks (doctor);
2 an invalid policy, exemption, snapshot or event file, or nothing to act on; 3 Azure failed,
refused or was unreachable, or no Azure credential; 64 bad usage; 70 grantguard itself failed.`;

/** What only the process entry point can do. */
export interface RunOptions {
  /** Runs the same command line in a new process with the environment a RelaunchNeeded asks for; its exit code. */
  readonly relaunch?: (request: RelaunchNeeded) => Promise<number>;
}

/** Runs one command line; returns the exit code. Failures are explained in one line, never thrown. */
export async function run(argv: readonly string[], io: Io, options: RunOptions = {}): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    io.out(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === "help") return help(rest[0], io);
  const entry = Object.hasOwn(VERBS, command) ? VERBS[command] : undefined;
  if (!entry) {
    io.err(`grantguard: unknown command '${command}'\n\n${USAGE}`);
    return EXIT.usage;
  }
  const context: VerbContext = { io, azure: [] };
  let verb: Verb | undefined;
  try {
    verb = await entry.load();
    return await verb.run(rest, context);
  } catch (error) {
    if (error instanceof RelaunchNeeded && options.relaunch) return options.relaunch(error);
    const failure = failureOf(error, context.azure);
    io.status("");
    for (const line of failure.lines) io.err(line);
    if (failure.usage && verb) io.err(`\n${verb.usage}`);
    // --verbose is honoured even when the rest of the line did not parse.
    if (rest.includes("--verbose")) io.err(verboseReport(error));
    return failure.code;
  }
}

async function help(command: string | undefined, io: Io): Promise<number> {
  const entry = command !== undefined && Object.hasOwn(VERBS, command) ? VERBS[command] : undefined;
  if (!entry) {
    io.out(USAGE);
    return command === undefined ? EXIT.ok : EXIT.usage;
  }
  io.out((await entry.load()).usage);
  return EXIT.ok;
}
