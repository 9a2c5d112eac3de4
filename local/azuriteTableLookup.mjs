// Preloaded into Azurite's Table service (node --import, from local/azurite.ts): its point
// lookups and partition queries go by the table's keys, as Table Storage's do, instead of a scan.
//
// Point lookups. Azurite 3.35 keeps each table in a LokiJS collection and looks an entity up with
// `findOne({ PartitionKey, RowKey })`, which LokiJS answers by scanning the whole collection (its
// first-match path skips its indices). Every insert, upsert, merge and delete does that lookup, so
// writing n entities costs O(n²): a sweep writing 14,000 findings spent 49 of its 68 busy seconds
// in that scan. Table Storage's point lookups go by its primary key, (PartitionKey, RowKey).
//
// Partition queries. Azurite evaluates a query's $filter on every entity of the table, so a steady
// sweep of 100,000 assignments, asking each of its 970 partitions once, scanned the whole findings
// table 970 times (3.8× the sweep's floor, where Azure answers a partition query from the
// partition).
//
// The preload keeps, per table, a map from each PartitionKey and RowKey to the entity, by exact
// string equality, built once from the collection and kept by the collection's own insert, update
// and delete events. (LokiJS's binary indices compare keys loosely — numeric-looking strings by
// value, so "9", "09" and "9.0" share a place — and need a second, exact pass; the map compares
// exactly once.) A point lookup reads the map. A query
// whose $filter, parsed by Azurite's own parser, is a conjunction with a `PartitionKey eq '…'`
// term starts from that partition's entities, and Azurite then applies the whole filter, its
// ordering and its paging as before: the same rows.
//
// Nothing else about Azurite changes: what it accepts, refuses and returns is its own.
import { createRequire } from "node:module";

const fromAzurite = createRequire(createRequire(import.meta.url).resolve("azurite/package.json"));
const Loki = fromAzurite("lokijs");
const persistence = "./dist/src/table/persistence";
const Store = fromAzurite(`${persistence}/LokiTableMetadataStore.js`).default;
const parseQuery = fromAzurite(`${persistence}/QueryInterpreter/QueryParser.js`).default;
const node = (name) => fromAzurite(`${persistence}/QueryInterpreter/QueryNodes/${name}.js`).default;
const [AndNode, EqualsNode, IdentifierNode, ConstantNode] = ["AndNode", "EqualsNode", "IdentifierNode", "ConstantNode"].map(node);
const scanning = Loki.Collection.prototype.findOne;

// Each table's entities by PartitionKey, then RowKey (exact strings).
const tables = new WeakMap();

/** A table collection's key map, built on first use; null for a collection that is not a table's or that hands out clones. */
function keysOf(collection) {
  const known = tables.get(collection);
  if (known) return known;
  if (collection.cloneObjects || !collection.binaryIndices?.PartitionKey || !collection.binaryIndices?.RowKey) return null;
  const keys = new Map();
  const put = (doc) => {
    let partition = keys.get(doc.PartitionKey);
    if (!partition) keys.set(doc.PartitionKey, (partition = new Map()));
    partition.set(doc.RowKey, doc);
  };
  const drop = (doc) => {
    const partition = keys.get(doc.PartitionKey);
    partition?.delete(doc.RowKey);
    if (partition?.size === 0) keys.delete(doc.PartitionKey);
  };
  for (const doc of collection.data) put(doc);
  // LokiJS emits these synchronously, with the stored object (one, or an array for a batch insert).
  collection.on("insert", (docs) => [docs].flat().forEach(put));
  collection.on("update", put);
  collection.on("delete", drop);
  tables.set(collection, keys);
  return keys;
}

Loki.Collection.prototype.findOne = function findOne(query) {
  const names = query ? Object.keys(query) : [];
  const pointLookup = names.length === 2 && typeof query.PartitionKey === "string" && typeof query.RowKey === "string";
  const keys = pointLookup ? keysOf(this) : null;
  if (!keys) return scanning.call(this, query);
  return keys.get(query.PartitionKey)?.get(query.RowKey) ?? null;
};

/** The partition every entity a $filter can match lies in (a top-level `PartitionKey eq '…'` conjunct); undefined when none is pinned. */
function pinnedPartition(filter) {
  if (typeof filter !== "string" || filter === "") return undefined;
  let tree;
  try {
    tree = parseQuery(filter);
  } catch {
    // Azurite refuses it itself, with its own error.
    return undefined;
  }
  const conjuncts = (n) => (n instanceof AndNode ? [...conjuncts(n.left), ...conjuncts(n.right)] : [n]);
  for (const term of conjuncts(tree)) {
    if (!(term instanceof EqualsNode)) continue;
    const [name, value] = term.left instanceof IdentifierNode ? [term.left, term.right] : [term.right, term.left];
    if (name instanceof IdentifierNode && name.identifier === "PartitionKey" && value instanceof ConstantNode && typeof value.value === "string") return value.value;
  }
  return undefined;
}

// The query being answered, from its call until its collection's chain() (the same synchronous turn).
let pinned;
const chain = Loki.Collection.prototype.chain;
Loki.Collection.prototype.chain = function pinnedChain(...args) {
  const results = chain.apply(this, args);
  if (!pinned || pinned.collection !== this) return results;
  const { partition, keys } = pinned;
  pinned = undefined;
  // The partition's entities, as positions in the collection (as LokiJS's own filters leave them).
  const rows = [];
  for (const doc of keys.get(partition)?.values() ?? []) {
    const found = this.get(doc.$loki, true);
    // A map out of step with the collection: answer from the whole table, as Azurite does.
    if (!found || found[0] !== doc) return results;
    rows.push(found[1]);
  }
  results.filteredrows = rows.sort((x, y) => x - y);
  results.filterInitialized = true;
  return results;
};

const queryTableEntities = Store.prototype.queryTableEntities;
Store.prototype.queryTableEntities = function queryFromPartition(context, account, table, queryOptions, ...rest) {
  const partition = pinnedPartition(queryOptions?.filter);
  if (partition !== undefined) {
    try {
      const collection = this.getEntityCollection(account, table, context);
      const keys = keysOf(collection);
      if (keys) pinned = { collection, partition, keys };
    } catch {
      // No such table: Azurite answers that itself.
    }
  }
  try {
    return queryTableEntities.call(this, context, account, table, queryOptions, ...rest);
  } finally {
    pinned = undefined;
  }
};
