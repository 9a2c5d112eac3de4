import { z } from "zod";

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
