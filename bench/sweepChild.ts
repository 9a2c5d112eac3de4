// The sweeping process of the sweep bench (bench/sweep.ts starts it, so its peak RSS is the
// sweep's alone): reads grantguard's settings from its environment, sweeps once, and writes what
// it measured as one JSON line on stdout. Table Storage requests are counted as Node sends them
// (its http client's diagnostics channel), whatever client or driver sends them.
import { subscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { createManagedIdentityCredential } from "../shared/azure/credential.js";
import { loadConfig } from "../shared/config.js";
import { loadPolicyPack } from "../shared/policy/load.js";
import { sweepThroughAzure } from "./sweepDriver.js";

const config = loadConfig(process.env);
const tenantId = process.env.GRANTGUARD_AUTH_TENANT_ID;
if (!tenantId) throw new Error("GRANTGUARD_AUTH_TENANT_ID names the tenant the sweep judges");
const credential = createManagedIdentityCredential({ clientId: config.managedIdentityClientId, timeoutMs: config.tokenTimeoutMs });
const pack = await loadPolicyPack(config.policiesDir);
const table = new URL(config.tableEndpoint);
let tableRequests = 0;
subscribe("http.client.request.start", (message) => {
  const request = (message as { request: ClientRequest }).request;
  if (String(request.getHeader("host")) === table.host) tableRequests += 1;
});
const started = performance.now();
// The sweep step: one call, replaceable by any driver that sweeps the whole tenant.
const measured = await sweepThroughAzure({ config, tenantId, credential, pack, now: new Date() });
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - started) / 1000, tableRequests, ...measured })}\n`);
