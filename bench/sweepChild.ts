// The sweeping process of the sweep bench (bench/sweep.ts starts it, so its peak RSS is the
// sweep's alone): reads grantguard's settings from its environment, sweeps once (plan and every shard, as the function app runs them), and writes what
// it measured as one JSON line on stdout. Table Storage requests are counted as Node sends them
// (its http client's diagnostics channel), whatever client or driver sends them.
import { subscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { createManagedIdentityCredential } from "../shared/azure/credential.js";
import { loadConfig } from "../shared/config.js";
import { createRuntime } from "../shared/runtime.js";
import { sweepLive } from "./sweepDriver.js";

const config = loadConfig(process.env);
const credential = createManagedIdentityCredential({ clientId: config.managedIdentityClientId, timeoutMs: config.tokenTimeoutMs });
const runtime = await createRuntime(process.env);
const table = new URL(config.tableEndpoint);
let tableRequests = 0;
// BENCH_SWEEP_VERBOSE: the requests per table (a transaction's path names the account's $batch).
const perTable = new Map<string, number>();
subscribe("http.client.request.start", (message) => {
  const request = (message as { request: ClientRequest }).request;
  if (String(request.getHeader("host")) !== table.host) return;
  tableRequests += 1;
  const name = request.path.split("/")[2]?.split(/[(?]/)[0] ?? "";
  perTable.set(name, (perTable.get(name) ?? 0) + 1);
});
const started = performance.now();
// The sweep step: the timer's plan, then every shard from the queue, in this process.
const measured = await sweepLive(runtime, credential);
if (process.env.BENCH_SWEEP_VERBOSE) process.stderr.write(`table requests: ${JSON.stringify(Object.fromEntries(perTable))}\n`);
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000, tableRequests, ...measured })}\n`);
