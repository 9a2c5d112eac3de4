import { odata, RestError, type TableClient } from "@azure/data-tables";
import { z } from "zod";
import { GrantGuardError } from "../errors.js";
import { ensureTable } from "../azure/tables.js";

/** One alert on one channel: the outbox row the dispatcher works from. */
export const deliverySchema = z.object({
  alertId: z.string(),
  channel: z.enum(["teams", "slack", "webhook"]),
  findingId: z.string().nullable(),
  /** pending: to send; digest: waits for the digest; delivered; failed: gave up after the last attempt. */
  status: z.enum(["pending", "digest", "delivered", "failed"]),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  /** The Alert, as JSON: what was (or will be) sent. */
  payload: z.string(),
});
export type Delivery = z.infer<typeof deliverySchema>;

/** Where deliveries are kept. */
export interface AlertDeliveries {
  /** Creates the row unless it exists (a redelivered state change never resets a delivered alert); true when created. */
  createIfAbsent(delivery: Delivery): Promise<boolean>;
  update(delivery: Delivery): Promise<void>;
  list(options?: { readonly status?: Delivery["status"] }): Promise<Delivery[]>;
}

const FIELDS = Object.keys(deliverySchema.shape);

/** Deliveries in Table Storage: PartitionKey = alert id, RowKey = channel. */
export class TableAlertDeliveries implements AlertDeliveries {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  #entity(d: Delivery) {
    return { partitionKey: d.alertId, rowKey: d.channel, ...Object.fromEntries(Object.entries(d).filter(([, v]) => v !== null)) };
  }

  async createIfAbsent(delivery: Delivery): Promise<boolean> {
    await this.#ensure();
    try {
      await this.client.createEntity(this.#entity(delivery));
      return true;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) return false; // already in the outbox
      throw error;
    }
  }

  async update(delivery: Delivery): Promise<void> {
    await this.#ensure();
    await this.client.upsertEntity(this.#entity(delivery), "Replace");
  }

  async list(options: { readonly status?: Delivery["status"] } = {}): Promise<Delivery[]> {
    await this.#ensure();
    const out: Delivery[] = [];
    const filter = options.status ? odata`status eq ${options.status}` : undefined;
    for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: filter ? { filter } : {} })) {
      const parsed = deliverySchema.safeParse(Object.fromEntries(FIELDS.map((f) => [f, e[f] ?? null])));
      if (!parsed.success) throw new GrantGuardError(`alert delivery ${e.partitionKey}/${e.rowKey} is malformed: ${parsed.error.issues[0]?.message}`);
      out.push(parsed.data);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
