import { TableClient, type TableEntityResult } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import { statusOf } from "../../shared/errors.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// Azurite's Table service runs with local/azuriteTableLookup.mjs preloaded, which answers its
// point lookups and partition queries through its indices instead of a scan of the table. What
// grantguard relies on must stay Table Storage's: a key pair names one entity, exactly (case
// included); inserts, conditional updates and deletes answer as they did; a query returns the
// rows its whole filter selects, in key order, paged.

let azure: TestAzure;
let client: TableClient;

beforeAll(async () => {
  azure = await startTestAzure();
  client = new TableClient(azure.local.settings.GRANTGUARD_TABLE_ENDPOINT!, "pointlookups", createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 }));
  await client.createTable();
});
afterAll(() => azure?.stop());

const refused = (write: Promise<unknown>) => write.then(() => 200, (error: unknown) => statusOf(error));

describe("Azurite's Table service with its lookups and partition queries indexed", () => {
  it("finds the one entity a key pair names, among many sharing either key", async () => {
    const entities = ["a", "b", "A"].flatMap((pk) => ["x", "y", "X"].map((rk) => ({ partitionKey: pk, rowKey: rk, value: `${pk}/${rk}` })));
    for (let i = 0; i < entities.length; i += 3) await client.submitTransaction(entities.slice(i, i + 3).map((e) => ["create", e]));
    for (const e of entities) expect((await client.getEntity<{ value: string }>(e.partitionKey, e.rowKey)).value).toBe(e.value);
    expect(await refused(client.getEntity("a", "z"))).toBe(404);
    expect(await refused(client.getEntity("c", "x"))).toBe(404);
  });

  it("finds every key exactly in a table whose keys mix numeric-looking and other strings (\"9\", \"09\", \"1e3\", \"1000\"…)", async () => {
    const table = new TableClient(azure.local.settings.GRANTGUARD_TABLE_ENDPOINT!, "mixedkeys", createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 }));
    await table.createTable();
    const keys = ["2", "10", "1a", "9", "09", "1e3", "1000", "a", "-1", "0x10", " 7", "7"];
    for (const pk of keys) await table.submitTransaction(keys.map((rk) => ["create", { partitionKey: pk, rowKey: rk, value: `${pk}|${rk}` }]));
    for (const pk of keys) for (const rk of keys) expect((await table.getEntity<{ value: string }>(pk, rk)).value).toBe(`${pk}|${rk}`);
    for (const pk of keys) {
      const rows: string[] = [];
      for await (const e of table.listEntities<{ value: string }>({ queryOptions: { filter: `PartitionKey eq '${pk}'` } })) rows.push(e.value);
      expect(rows.sort()).toEqual(keys.map((rk) => `${pk}|${rk}`).sort());
    }
    expect(await refused(table.createEntity({ partitionKey: "09", rowKey: "1e3" }))).toBe(409);
    expect(await refused(table.getEntity("9", "1000.0"))).toBe(404);
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

  it("answers a query pinned to a partition with exactly the rows its whole filter selects, in key order and paged", async () => {
    const table = new TableClient(azure.local.settings.GRANTGUARD_TABLE_ENDPOINT!, "partitionqueries", createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 }));
    await table.createTable();
    const rows = ["a", "b", "o'k"].flatMap((pk) => Array.from({ length: 5 }, (_, i) => ({ partitionKey: pk, rowKey: `r${i}`, n: i })));
    for (const pk of ["a", "b", "o'k"]) await table.submitTransaction(rows.filter((r) => r.partitionKey === pk).map((r) => ["create", r]));
    const keys = async (filter: string, maxPageSize?: number) => {
      const out: string[] = [];
      for await (const page of table.listEntities<{ n: number }>({ queryOptions: { filter } }).byPage(maxPageSize ? { maxPageSize } : {})) out.push(...page.map((e) => `${e.partitionKey}/${e.rowKey}`));
      return out;
    };
    expect(await keys("PartitionKey eq 'b' and n ge 2")).toEqual(["b/r2", "b/r3", "b/r4"]);
    expect(await keys("(n lt 2) and (PartitionKey eq 'o''k')")).toEqual(["o'k/r0", "o'k/r1"]);
    expect(await keys("PartitionKey eq 'a' and RowKey gt 'r0'", 2)).toEqual(["a/r1", "a/r2", "a/r3", "a/r4"]);
    // Not pinned to one partition: every partition the filter selects.
    expect(await keys("PartitionKey eq 'a' or PartitionKey eq 'b' and n eq 4")).toEqual(["a/r0", "a/r1", "a/r2", "a/r3", "a/r4", "b/r4"]);
    expect(await keys("not (PartitionKey eq 'a') and n eq 0")).toEqual(["b/r0", "o'k/r0"]);
    expect(await keys("PartitionKey eq 'c'")).toEqual([]);
  });
});
