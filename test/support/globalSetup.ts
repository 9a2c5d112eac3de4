import { rm } from "node:fs/promises";
import { createLocalTls, trustEnvironment } from "../../local/tls.js";

// One certificate per test run; workers start after this and so trust it from their first line.
export default async function setup(): Promise<() => Promise<void>> {
  const tls = await createLocalTls();
  Object.assign(process.env, trustEnvironment(tls));
  return async () => {
    await rm(tls.dir, { recursive: true, force: true });
  };
}
