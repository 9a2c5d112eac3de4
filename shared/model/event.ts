import { createHash } from "node:crypto";
import { z } from "zod";

/** Who made the grant, from the caller's token claims carried by the event. */
export interface GrantedBy {
  readonly objectId: string | null;
  readonly upn: string | null;
  readonly name: string | null;
  readonly appId: string | null;
  readonly ipAddress: string | null;
  /** "user" or "app" (the token's idtyp claim), null when the token did not say. */
  readonly identityType: string | null;
}

/** A role-assignment write or delete, validated from an Event Grid or CloudEvents 1.0 event. */
export interface GrantEvent {
  readonly eventId: string;
  readonly schema: "EventGrid" | "CloudEvents";
  readonly eventType: string;
  readonly kind: "write" | "delete";
  /** The assignment's full ARM id ({scope}/providers/Microsoft.Authorization/roleAssignments/{name}). */
  readonly assignmentId: string;
  readonly scope: string;
  readonly subscriptionId: string | null;
  readonly tenantId: string | null;
  readonly correlationId: string | null;
  readonly eventTime: string;
  readonly grantedBy: GrantedBy;
}

/** The outcome of parsing one delivered event: a grant event, or a rejection that says why. */
export type ParsedEvent =
  | { readonly status: "ok"; readonly event: GrantEvent }
  | { readonly status: "rejected"; readonly eventId: string; readonly eventType: string | null; readonly reason: string };

const WRITE_TYPE = "Microsoft.Resources.ResourceWriteSuccess";
const DELETE_TYPE = "Microsoft.Resources.ResourceDeleteSuccess";
const ASSIGNMENT_URI = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments\/([^/]+)$/i;

const CLAIM_OID = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const CLAIM_UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";

const claimsSchema = z.record(z.string(), z.unknown()).nullish();

const resourceDataSchema = z.looseObject({
  operationName: z.string({ error: "data.operationName is missing" }),
  resourceUri: z.string({ error: "data.resourceUri is missing" }).min(1, "data.resourceUri is empty"),
  subscriptionId: z.string().nullish(),
  tenantId: z.string().nullish(),
  correlationId: z.string().nullish(),
  status: z.string().nullish(),
  claims: claimsSchema,
});

const eventGridSchema = z.looseObject({
  id: z.string().min(1),
  eventType: z.string().min(1),
  subject: z.string().optional(),
  eventTime: z.string().min(1),
  data: z.unknown(),
  dataVersion: z.string().optional(),
});

const cloudEventSchema = z.looseObject({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  type: z.string().min(1),
  source: z.string().min(1),
  time: z.string().optional(),
  data: z.unknown(),
});

function claim(claims: Record<string, unknown> | null | undefined, key: string): string | null {
  const value = claims?.[key];
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** A stable id for a delivery that has none of its own (so a rejected one is still recorded once). */
export function contentId(raw: unknown): string {
  const text = typeof raw === "string" ? raw : JSON.stringify(raw) ?? String(raw);
  return `sha256-${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
}

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/** Validates one delivered event (Event Grid or CloudEvents schema; raw JSON text is accepted too). */
export function parseGrantEvent(raw: unknown): ParsedEvent {
  let value = raw;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return { status: "rejected", eventId: contentId(raw), eventType: null, reason: "the event is not JSON" };
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { status: "rejected", eventId: contentId(raw), eventType: null, reason: "the event is not a JSON object" };
  }

  const isCloudEvent = "specversion" in value;
  let envelope: { id: string; type: string; time: string; data: unknown; schema: GrantEvent["schema"] };
  if (isCloudEvent) {
    const ce = cloudEventSchema.safeParse(value);
    if (!ce.success) {
      return { status: "rejected", eventId: idOf(value, raw), eventType: null, reason: `not a valid CloudEvents 1.0 event: ${issuesOf(ce.error)}` };
    }
    envelope = { id: ce.data.id, type: ce.data.type, time: ce.data.time ?? "", data: ce.data.data, schema: "CloudEvents" };
  } else {
    const eg = eventGridSchema.safeParse(value);
    if (!eg.success) {
      return { status: "rejected", eventId: idOf(value, raw), eventType: null, reason: `not a valid Event Grid event: ${issuesOf(eg.error)}` };
    }
    envelope = { id: eg.data.id, type: eg.data.eventType, time: eg.data.eventTime, data: eg.data.data, schema: "EventGrid" };
  }

  const reject = (reason: string): ParsedEvent => ({ status: "rejected", eventId: envelope.id, eventType: envelope.type, reason });
  if (envelope.type !== WRITE_TYPE && envelope.type !== DELETE_TYPE) {
    return reject(`event type ${envelope.type} is not ${WRITE_TYPE} or ${DELETE_TYPE}`);
  }
  let data = envelope.data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      return reject("the event's data is not JSON");
    }
  }
  const parsedData = resourceDataSchema.safeParse(data);
  if (!parsedData.success) return reject(`the event's data is invalid: ${issuesOf(parsedData.error)}`);
  const d = parsedData.data;

  const operation = d.operationName.toLowerCase();
  const kind = operation === "microsoft.authorization/roleassignments/write" ? "write" : operation === "microsoft.authorization/roleassignments/delete" ? "delete" : null;
  if (kind === null) return reject(`operation ${d.operationName} is not a role assignment write or delete`);
  if ((kind === "write") !== (envelope.type === WRITE_TYPE)) {
    return reject(`operation ${d.operationName} does not fit event type ${envelope.type}`);
  }
  const match = ASSIGNMENT_URI.exec(d.resourceUri);
  if (!match) return reject(`resourceUri ${d.resourceUri} is not a role assignment`);
  if (!envelope.time || Number.isNaN(Date.parse(envelope.time))) return reject("the event has no valid time");

  const scope = match[1] === "" ? "/" : (match[1] ?? "/");
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1] ?? d.subscriptionId ?? null;
  return {
    status: "ok",
    event: {
      eventId: envelope.id,
      schema: envelope.schema,
      eventType: envelope.type,
      kind,
      assignmentId: d.resourceUri,
      scope,
      subscriptionId: subscription,
      tenantId: d.tenantId ?? null,
      correlationId: d.correlationId ?? null,
      eventTime: new Date(envelope.time).toISOString(),
      grantedBy: {
        objectId: claim(d.claims, CLAIM_OID),
        upn: claim(d.claims, CLAIM_UPN),
        name: claim(d.claims, "name"),
        appId: claim(d.claims, "appid"),
        ipAddress: claim(d.claims, "ipaddr"),
        identityType: claim(d.claims, "idtyp"),
      },
    },
  };
}

function idOf(value: object, raw: unknown): string {
  const id = (value as { id?: unknown }).id;
  return typeof id === "string" && id.length > 0 ? id : contentId(raw);
}
