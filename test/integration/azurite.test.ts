import { TableClient, type TableEntityResult } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { statusOf } from "../../shared/errors.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// Azurite's Table service runs with local/azuriteTableLookup.mjs preloaded, which answers its
// point lookups through the PartitionKey index instead of a scan. What grantguard relies on from
// a point lookup must stay Table Storage's: a key pair names one entity, exactly (case included),
// and inserts, conditional updates and deletes answer as they did.

let azure: TestAzure;
let client: TableClient;

beforeAll(async () => {
  azure = await startTestAzure();
  client = new TableClient(azure.local.settings.GRANTGUARD_TABLE_ENDPOINT!, "pointlookups", createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 }));
  await client.createTable();
});
afterAll(() => azure?.stop());

const refused = (write: Promise<unknown>) => write.then(() => 200, (error: unknown) => statusOf(error));

describe("Azurite's Table service, point lookups", () => {
  it("finds the one entity a key pair names, among many sharing either key", async () => {
    const entities = ["a", "b", "A"].flatMap((pk) => ["x", "y", "X"].map((rk) => ({ partitionKey: pk, rowKey: rk, value: `${pk}/${rk}` })));
    for (let i = 0; i < entities.length; i += 3) await client.submitTransaction(entities.slice(i, i + 3).map((e) => ["create", e]));
    for (const e of entities) expect((await client.getEntity<{ value: string }>(e.partitionKey, e.rowKey)).value).toBe(e.value);
    expect(await refused(client.getEntity("a", "z"))).toBe(404);
    expect(await refused(client.getEntity("c", "x"))).toBe(404);
  });

  it("refuses a second insert of a key pair, inside a transaction or not", async () => {
    await client.createEntity({ partitionKey: "p", rowKey: "r", n: 1 });
    expect(await refused(client.createEntity({ partitionKey: "p", rowKey: "r", n: 2 }))).toBe(409);
    expect(await refused(client.submitTransaction([["create", { partitionKey: "p", rowKey: "s" }], ["create", { partitionKey: "p", rowKey: "r" }]]))).toBe(409);
    // The failed transaction left nothing behind.
    expect(await refused(client.getEntity("p", "s"))).toBe(404);
    expect((await client.getEntity<{ n: number }>("p", "r")).n).toBe(1);
  });

  it("updates and deletes only the entity whose ETag matches", async () => {
    await client.upsertEntity({ partitionKey: "q", rowKey: "r", n: 1 }, "Replace");
    const first: TableEntityResult<{ n: number }> = await client.getEntity("q", "r");
    await client.updateEntity({ partitionKey: "q", rowKey: "r", n: 2 }, "Merge", { etag: first.etag });
    expect(await refused(client.updateEntity({ partitionKey: "q", rowKey: "r", n: 3 }, "Merge", { etag: first.etag }))).toBe(412);
    expect(await refused(client.deleteEntity("q", "r", { etag: first.etag }))).toBe(412);
    const second: TableEntityResult<{ n: number }> = await client.getEntity("q", "r");
    expect(second.n).toBe(2);
    await client.deleteEntity("q", "r", { etag: second.etag });
    expect(await refused(client.getEntity("q", "r"))).toBe(404);
    expect(await refused(client.deleteEntity("q", "r"))).toBe(404);
  });
});
