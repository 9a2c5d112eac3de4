// Preloaded into Azurite's Table service (node --import, from local/azurite.ts): its point
// lookups and partition queries go through the indices it keeps, as Table Storage's do.
//
// Point lookups. Azurite 3.35 keeps each table in a LokiJS collection indexed on PartitionKey and
// RowKey, but looks an entity up with `findOne({ PartitionKey, RowKey })`, which LokiJS answers by
// scanning the whole collection (its first-match path skips the binary indices). Every insert,
// upsert, merge and delete does that lookup, so writing n entities costs O(n²): a sweep writing
// 14,000 findings spent 49 of its 68 busy seconds in that scan. Table Storage's own point lookups
// go by its primary key, (PartitionKey, RowKey). The preload answers the same lookup through
// whichever of the two indices holds fewer candidates (a key pair in a large partition, as a hash
// chain's, goes by its RowKey; a RowKey that every partition shares goes by its PartitionKey),
// then compares both keys exactly: the same entity (a key pair names at most one), found in
// O(log n + candidates).
//
// Partition queries. Azurite evaluates a query's $filter on every entity of the table, so a
// steady sweep of 100,000 assignments, asking each of its 970 partitions once, scanned the whole
// findings table 970 times (3.8× the sweep's floor, where Azure answers a partition query from
// the partition). When the filter, parsed by Azurite's own parser, is a conjunction with a
// `PartitionKey eq '…'` term, the query starts from that partition (the PartitionKey index) and
// Azurite then applies the whole filter, its ordering and its paging as before: the same rows.
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

/** The positions in `property`'s binary index whose values compare equal to `value` (LokiJS's own range). */
function candidates(collection, property, value) {
  if (collection.adaptiveBinaryIndices !== true) collection.ensureIndex(property);
  const [start, end] = collection.calculateRange("$eq", property, value);
  return { values: collection.binaryIndices[property].values, start, end };
}

Loki.Collection.prototype.findOne = function findOne(query) {
  const keys = query ? Object.keys(query) : [];
  const pointLookup = keys.length === 2 && typeof query.PartitionKey === "string" && typeof query.RowKey === "string";
  const indexed = this.binaryIndices && this.binaryIndices.PartitionKey && this.binaryIndices.RowKey;
  // A collection that clones what it returns keeps LokiJS's own path.
  if (!pointLookup || !indexed || this.cloneObjects) return scanning.call(this, query);
  const byPartition = candidates(this, "PartitionKey", query.PartitionKey);
  const byRow = candidates(this, "RowKey", query.RowKey);
  const { values, start, end } = byRow.end - byRow.start < byPartition.end - byPartition.start ? byRow : byPartition;
  for (let i = start; i <= end; i++) {
    const doc = this.data[values[i]];
    if (doc.PartitionKey === query.PartitionKey && doc.RowKey === query.RowKey) return doc;
  }
  return null;
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
  const { partition } = pinned;
  pinned = undefined;
  return results.find({ PartitionKey: partition });
};

const queryTableEntities = Store.prototype.queryTableEntities;
Store.prototype.queryTableEntities = function queryFromPartition(context, account, table, queryOptions, ...rest) {
  const partition = pinnedPartition(queryOptions?.filter);
  if (partition !== undefined) {
    try {
      const collection = this.getEntityCollection(account, table, context);
      if (collection.binaryIndices?.PartitionKey) pinned = { collection, partition };
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
