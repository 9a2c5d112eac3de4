import { odata, RestError, type TableClient } from "@azure/data-tables";
import { StoreCorruptError } from "../errors.js";
import { deliverySchema, type AlertDeliveries, type Delivery } from "../response/deliveries.js";
import { ensureTable } from "./tables.js";

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
      if (!parsed.success) throw new StoreCorruptError(`alert delivery ${e.partitionKey}/${e.rowKey} is malformed: ${parsed.error.issues[0]?.message}`);
      out.push(parsed.data);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
