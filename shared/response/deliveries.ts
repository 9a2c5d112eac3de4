import { z } from "zod";

/** One alert on one channel: the outbox row the dispatcher works from. */
export const deliverySchema = z.object({
  alertId: z.string(),
  channel: z.enum(["teams", "slack", "webhook"]),
  findingId: z.string().nullable(),
  /** pending: to send; digest: waits for the digest; delivered; failed: gave up after the last attempt. */
  status: z.enum(["pending", "digest", "delivered", "failed"]),
  attempts: z.number().int(),
  /**
   * While pending, when the delivery is next due: the next retry, or, while an instance is
   * sending it, the end of that instance's lease (if the instance dies, the timer sends it then).
   */
  nextAttemptAt: z.string(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  /** The idempotency key of the message that delivered it: the alert's own id, or a summary's or a digest's key. */
  deliveredIn: z.string().nullable(),
  /** The Alert, as JSON: what was (or will be) sent. */
  payload: z.string(),
});
export type Delivery = z.infer<typeof deliverySchema>;

/** A delivery's change of state: `previous` as the caller holds it (created or claimed), `next` to store. */
export interface DeliveryChange {
  readonly previous: Delivery;
  readonly next: Delivery;
}

/**
 * Where deliveries are kept. Pending and digest deliveries are indexed, so finding what is due
 * reads only what is due; every change of a delivery updates its index in the same transaction.
 */
export interface AlertDeliveries {
  /** Deliveries with the same key are written together, in one transaction (every channel's delivery of one alert has the same). */
  batchKey(delivery: Pick<Delivery, "findingId" | "alertId">): string;
  /**
   * Records the deliveries whose records do not exist yet (a repeated round never overwrites
   * one), in transactions of many where it can; returns those it recorded. A pending one enters
   * the due index at its `nextAttemptAt`: a retry's time, or for an alert recorded before it is
   * sent, the end of its sender's lease.
   */
  create(deliveries: readonly Delivery[]): Promise<Delivery[]>;
  /**
   * Claims pending deliveries due at `now` (at most `limit`, the longest waiting first), moving
   * each one's `nextAttemptAt` to `leaseUntil`: while the claimer sends them, no one else does.
   * One another instance claimed first is left out.
   */
  claimDue(options: { readonly now: Date; readonly leaseUntil: Date; readonly limit: number }): Promise<Delivery[]>;
  /**
   * Stores outcomes (delivered, retry at `nextAttemptAt`, failed, still waiting for the digest),
   * in transactions of many. A change whose delivery another instance claimed meanwhile (this
   * one's lease ran out) is dropped: that instance sends it again, with the same idempotency key.
   */
  update(changes: readonly DeliveryChange[]): Promise<void>;
  /** The stored records of these deliveries (the same alert and channel), those that exist. */
  listExisting(deliveries: readonly Delivery[]): Promise<Delivery[]>;
  /** The deliveries waiting for the digest (read from their index). */
  listDigest(): Promise<Delivery[]>;
  /** Every delivery, or those with one status, oldest first: for operators, a scan of the table. */
  list(options?: { readonly status?: Delivery["status"] }): Promise<Delivery[]>;
}
