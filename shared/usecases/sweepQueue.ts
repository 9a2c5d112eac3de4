// Names the function app registers and the sweep writes to, kept free of imports so that the
// entry file (functions/index.ts) stays small: the Functions host loads it at every cold start.

/** The Storage queue the sweep's shards wait on; the Functions host moves a shard that keeps failing to `{queue}-poison`. */
export const SWEEP_QUEUE = "sweep-shards";

/** The identity-based connection of the sweep's queue triggers: GRANTGUARD_STORAGE__queueServiceUri (plus __credential/__clientId in Azure). */
export const STORAGE_CONNECTION = "GRANTGUARD_STORAGE";
