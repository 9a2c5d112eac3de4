// Runs a script (`tsx local/trusted.ts SCRIPT [ARGS…]`) in a Node process that trusts a
// certificate made for this run: Node reads NODE_EXTRA_CA_CERTS only when a process starts.
import { runTrusting } from "./tls.js";

if (process.argv.length < 3) {
  process.stderr.write("usage: tsx local/trusted.ts SCRIPT [ARGS…]\n");
  process.exit(2);
}
process.exitCode = await runTrusting(process.argv.slice(2));
