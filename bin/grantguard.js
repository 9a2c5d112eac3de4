#!/usr/bin/env node
// The grantguard command line. The sources are TypeScript, run through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../shared/cli/main.ts");
process.exitCode = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
