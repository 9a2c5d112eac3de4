import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The directory holding grantguard's package.json, whether this code runs from the sources
 * (shared/) or from the build (dist/shared/): files that ship beside the code, such as the
 * built-in policy pack, are found from here rather than relative to one layout.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The built-in policy pack. */
export const BUILT_IN_POLICIES_DIR = join(packageRoot(), "policies");
