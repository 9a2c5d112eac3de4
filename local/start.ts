// `npm start`: runs local/main.ts in a process that trusts a certificate made for this run.
import { fileURLToPath } from "node:url";
import { runTrusting } from "./tls.js";

process.exitCode = await runTrusting([fileURLToPath(new URL("./main.ts", import.meta.url)), ...process.argv.slice(2)]);
