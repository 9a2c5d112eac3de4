#!/usr/bin/env node
// The grantguard command line. The sources are TypeScript, run through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../shared/cli/bin.ts");
process.exitCode = await main();
