import type { TableClient } from "@azure/data-tables";

/** Creates a table on first use (once per client; "already exists" is success); a failure is retried next time. */
export function ensureTable(client: TableClient): () => Promise<void> {
  let created: Promise<void> | undefined;
  return () => {
    created ??= client.createTable().catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    return created;
  };
}
