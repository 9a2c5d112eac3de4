import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built-in pack's directory. */
export const POLICIES = fileURLToPath(new URL("../../policies", import.meta.url));

/** A copy of the built-in pack in a temporary directory, to break or exempt things in. */
export async function packCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "grantguard-pack-"));
  await cp(POLICIES, dir, { recursive: true });
  return dir;
}
