import type { Runtime } from "../shared/runtime.js";

/**
 * The app's runtime, loaded with the first invocation rather than when the host imports the
 * app: the entry file stays small (a fast cold start), and the Azure SDKs, the policies and the
 * clients load once, when something needs them.
 */
export async function runtime(): Promise<Runtime> {
  const { getRuntime } = await import("../shared/runtime.js");
  return getRuntime();
}
