import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createLocalTls, trustEnvironment } from "../../local/tls.js";

/** Builds dist/ when the command line would refuse to run it (missing, or older than the sources): tests run the real bin. */
function buildWhenStale(): void {
  const probe = spawnSync(process.execPath, ["bin/grantguard.js", "--help"], { encoding: "utf8" });
  if (probe.status === 0) return;
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
}

// One certificate per test run; workers start after this and so trust it from their first line.
export default async function setup(): Promise<() => Promise<void>> {
  buildWhenStale();
  const tls = await createLocalTls();
  Object.assign(process.env, trustEnvironment(tls));
  return async () => {
    await rm(tls.dir, { recursive: true, force: true });
  };
}
