/**
 * Writes the demo tenant snapshot (local/demo/tenant.json) from its deterministic generator
 * (generator/demoTenant.ts). Every object follows the tenant snapshot format: ARM shapes
 * (api-version 2022-04-01) for authorization objects, Microsoft Graph v1.0 shapes for principals,
 * Log Analytics column names for log rows.
 *
 * Run: npm run demo:tenant (a test checks that the committed file is what this writes).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateDemoTenant } from "./generator/demoTenant.js";

const snapshot = generateDemoTenant();
const out = fileURLToPath(new URL("./tenant.json", import.meta.url));
const text = JSON.stringify(snapshot, null, 2) + "\n";
writeFileSync(out, text);
const logRows = Object.values(snapshot.logs).reduce((n, rows) => n + rows.length, 0);
console.log(`wrote ${out}: ${(text.length / 1024).toFixed(0)} KiB, ${snapshot.roleAssignments.length} role assignments, ${snapshot.principals.length} principals, ${logRows} log rows`);
