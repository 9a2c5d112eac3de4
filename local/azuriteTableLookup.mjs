// Preloaded into Azurite's Table service (node --import, from local/azurite.ts).
//
// Azurite 3.35 keeps each table in a LokiJS collection indexed on PartitionKey and RowKey, but
// looks an entity up with `findOne({ PartitionKey, RowKey })`, which LokiJS answers by scanning
// the whole collection (its first-match path skips the binary indices). Every insert, upsert,
// merge and delete does that lookup, so writing n entities costs O(n²): a sweep writing 14,000
// findings spent 49 of its 68 busy seconds in that scan. Table Storage's own point lookups go by
// its primary key, (PartitionKey, RowKey).
//
// This answers the same lookup through whichever of the two indices holds fewer candidates (a
// key pair in a large partition, as a hash chain's, goes by its RowKey; a RowKey that every
// partition shares goes by its PartitionKey), then compares both keys exactly: the same entity
// (a key pair names at most one), found in O(log n + candidates). Nothing else about Azurite
// changes: what it accepts, refuses and returns is its own.
import { createRequire } from "node:module";

const fromAzurite = createRequire(createRequire(import.meta.url).resolve("azurite/package.json"));
const Loki = fromAzurite("lokijs");
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
