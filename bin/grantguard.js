#!/usr/bin/env node
// The grantguard command line, run from the build (dist/): `npm run build` makes it, and `npm ci`
// does so in a development checkout. There, a build older than the sources would run yesterday's
// code, so the command line says so instead.
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist", "shared", "cli", "bin.js");
const SOURCES = ["shared", "functions"];

/** The newest TypeScript source under these directories (a development checkout), or null. */
function newestSource() {
  let newest = null;
  const visit = (dir) => {
    for (const item of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, item.name);
      if (item.isDirectory()) visit(path);
      else if (item.name.endsWith(".ts")) {
        const mtimeMs = statSync(path).mtimeMs;
        if (!newest || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
      }
    }
  };
  for (const dir of SOURCES) if (existsSync(join(root, dir))) visit(join(root, dir));
  return newest;
}

function refuse(message) {
  process.stderr.write(`grantguard: ${message}\n`);
  process.exit(70);
}

if (!existsSync(entry)) refuse("the command line is not built yet: run npm run build (npm ci does it too)");
const source = newestSource();
if (source && source.mtimeMs > statSync(entry).mtimeMs) refuse(`the build in dist/ is older than ${relative(root, source.path)}: run npm run build`);
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main();
