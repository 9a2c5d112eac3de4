import { RestError, type ContainerClient } from "@azure/storage-blob";
import { StoreCorruptError } from "../errors.js";
import { signedDigestSchema, type DigestStore, type SignedDigest } from "../audit/digest.js";

// Digests go to append blobs, one JSON line per digest: an append blob can only grow, and in Azure
// the container carries a time-based immutability policy with protected append writes allowed, so
// not even the account's owner can rewrite or delete a digest until the policy ends. An append
// blob holds at most 50,000 blocks; past ROLL_BLOCKS the next digest starts the next blob
// (digests-000002.jsonl, …). Every append is conditional on the blob's ETag, so two writers never
// both append after the same digest.
const PREFIX = "digests-";
const ROLL_BLOCKS = 49_000;
const blobName = (n: number) => `${PREFIX}${String(n).padStart(6, "0")}.jsonl`;

/** Where the next digest goes: the blob, its ETag when read (null: it does not exist yet), and its block count. */
type Position = { readonly blob: number; readonly etag: string | null; readonly blocks: number };

const conflict = (error: unknown) => error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);

/** Signed digests in append blobs of one container. */
export class BlobDigestStore implements DigestStore {
  #created: Promise<unknown> | undefined;

  constructor(private readonly container: ContainerClient) {}

  async #ensure(): Promise<void> {
    this.#created ??= this.container.createIfNotExists().catch((error: unknown) => {
      this.#created = undefined;
      throw error;
    });
    await this.#created;
  }

  async #blobs(): Promise<number[]> {
    const numbers: number[] = [];
    for await (const item of this.container.listBlobsFlat({ prefix: PREFIX })) {
      const match = /^digests-(\d{6})\.jsonl$/.exec(item.name);
      if (match) numbers.push(Number(match[1]));
    }
    return numbers.sort((a, b) => a - b);
  }

  /** A blob's lines with the ETag and block count of that same content (one download: read together, never apart). */
  async #lines(blob: number): Promise<{ lines: string[]; position: Position }> {
    const response = await this.container.getAppendBlobClient(blobName(blob)).download(0);
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    const lines = Buffer.concat(chunks).toString("utf8").split("\n").filter((l) => l.trim() !== "");
    return { lines, position: { blob, etag: response.etag ?? null, blocks: response.blobCommittedBlockCount ?? 0 } };
  }

  async latest(): Promise<{ readonly digest: SignedDigest | null; readonly version: string | null }> {
    await this.#ensure();
    const blobs = await this.#blobs();
    let position: Position | null = null;
    // The newest blob may be empty (its creator died before appending): the digest before it is then in the one before, which no one appends to any more.
    for (let i = blobs.length - 1; i >= 0; i--) {
      const { lines, position: here } = await this.#lines(blobs[i] as number);
      position ??= here;
      const last = lines[lines.length - 1];
      if (last === undefined) continue;
      let value: unknown;
      try {
        value = JSON.parse(last);
      } catch {
        value = last;
      }
      const parsed = signedDigestSchema.safeParse(value);
      // A last digest that does not parse is never built upon: verification names it.
      if (!parsed.success) throw new StoreCorruptError(`the last audit digest in ${blobName(here.blob)} is malformed: ${parsed.error.issues[0]?.message}`);
      return { digest: parsed.data, version: JSON.stringify(position) };
    }
    return { digest: null, version: position ? JSON.stringify(position) : null };
  }

  async append(digest: SignedDigest, after: string | null): Promise<boolean> {
    await this.#ensure();
    let position: Position = after === null ? { blob: 0, etag: null, blocks: ROLL_BLOCKS } : (JSON.parse(after) as Position);
    try {
      if (position.blocks >= ROLL_BLOCKS) {
        // The next blob: created only if no one created it first.
        const created = await this.container.getAppendBlobClient(blobName(position.blob + 1)).create({ conditions: { ifNoneMatch: "*" }, blobHTTPHeaders: { blobContentType: "application/x-ndjson" } });
        position = { blob: position.blob + 1, etag: created.etag ?? null, blocks: 0 };
      }
      const line = Buffer.from(`${JSON.stringify(digest)}\n`, "utf8");
      await this.container.getAppendBlobClient(blobName(position.blob)).appendBlock(line, line.length, { conditions: position.etag ? { ifMatch: position.etag } : {} });
      return true;
    } catch (error) {
      if (conflict(error)) return false;
      throw error;
    }
  }

  async *list(): AsyncIterable<unknown> {
    await this.#ensure();
    for (const blob of await this.#blobs()) {
      for (const line of (await this.#lines(blob)).lines) {
        try {
          yield JSON.parse(line) as unknown;
        } catch {
          yield line; // not JSON: verification reports it as malformed
        }
      }
    }
  }
}
