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

/** Event Grid's largest event (1 MB); anything bigger did not come from Event Grid and is rejected unread. */
export const MAX_EVENT_BYTES = 1_048_576;
/** The Functions host's deepest JSON (Json.NET's default MaxDepth): deeper nesting never reaches a function. */
export const MAX_EVENT_DEPTH = 64;
/** The longest event id grantguard judges: ids are copied into findings and the ledger's row keys. */
export const MAX_EVENT_ID_CHARS = 512;
/** The longest resourceUri looked at; an assignment id of the documented shape is far shorter. */
export const MAX_RESOURCE_URI_CHARS = 2_048;
// Claims and correlation ids are copied into findings: cleaned and cut here, never a reason to reject.
const MAX_COPIED_CHARS = 1_024;
// How much of a hostile value a rejection reason quotes.
const MAX_QUOTED_CHARS = 120;

const CLAIM_OID = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const CLAIM_UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";

const claimsSchema = z.record(z.string(), z.unknown()).nullish();

const resourceDataSchema = z.looseObject({
  operationName: z.string({ error: "data.operationName is missing" }).max(256, "data.operationName is longer than 256 characters"),
  resourceUri: z.string({ error: "data.resourceUri is missing" }).min(1, "data.resourceUri is empty"),
  subscriptionId: z.string().nullish(),
  tenantId: z.string().nullish(),
  correlationId: z.string().nullish(),
  status: z.string().nullish(),
  claims: claimsSchema,
});

const eventGridSchema = z.looseObject({
  id: z.string().min(1),
  eventType: z.string().min(1).max(256),
  subject: z.string().optional(),
  eventTime: z.string().min(1).max(64),
  data: z.unknown(),
  dataVersion: z.string().optional(),
});

const cloudEventSchema = z.looseObject({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  type: z.string().min(1).max(256),
  source: z.string().min(1),
  time: z.string().max(64).optional(),
  data: z.unknown(),
});

function claim(claims: Record<string, unknown> | null | undefined, key: string): string | null {
  const value = claims?.[key];
  return typeof value === "string" && value.length > 0 ? cleanText(value, MAX_COPIED_CHARS) : null;
}

// Lone surrogates (no UTF-16 pair) and C0/C1 control characters: what no stored or logged text should carry.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text safe to store and log: unsafe characters replaced by U+FFFD, cut to `max` characters with a marker. */
export function cleanText(value: string, max: number): string {
  const cut = value.length > max ? `${value.slice(0, Math.max(0, max - 1))}…` : value;
  return cut.replace(UNSAFE_CHARS, "\ufffd");
}

/** True when the text has no lone surrogate and no control character. */
export function isCleanText(value: string): boolean {
  UNSAFE_CHARS.lastIndex = 0;
  return !UNSAFE_CHARS.test(value);
}

// A hostile value inside a rejection reason: quoted, cleaned and short.
function quote(value: string): string {
  return JSON.stringify(cleanText(value, MAX_QUOTED_CHARS));
}

/** How a JSON value measures against a size and depth budget; walks at most `maxBytes` of it, never recursing. */
export function measureJson(value: unknown, maxBytes: number, maxDepth: number): "ok" | "tooLarge" | "tooDeep" {
  let bytes = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop()!;
    if (typeof item === "string") {
      bytes += item.length > maxBytes ? item.length : Buffer.byteLength(item) + 2;
    } else if (typeof item === "object" && item !== null) {
      if (depth + 1 > maxDepth) return "tooDeep";
      // Brackets and separators are counted before the children are queued, so a huge container stops here.
      const children = Array.isArray(item) ? item : Object.keys(item);
      bytes += 2 + children.length * (Array.isArray(item) ? 1 : 4);
      if (bytes > maxBytes) return "tooLarge";
      if (Array.isArray(item)) {
        for (const element of item) stack.push({ value: element, depth: depth + 1 });
      } else {
        for (const [key, element] of Object.entries(item)) {
          bytes += Buffer.byteLength(key);
          stack.push({ value: element, depth: depth + 1 });
        }
      }
    } else {
      bytes += 5; // numbers, booleans and null: a few bytes each
    }
    if (bytes > maxBytes) return "tooLarge";
  }
  return "ok";
}

/**
 * A stable id for a delivery that has none of its own (so a rejected one is still recorded once):
 * a hash of its content as JSON text (JSON text and its parsed value share an id), computed in one
 * pass without recursion, whatever its size or depth.
 */
export function contentId(raw: unknown): string {
  const hash = createHash("sha256");
  // UTF-16 code units are hashed as they are, so texts differing only in lone surrogates stay apart.
  if (typeof raw === "string") return `sha256-${hash.update(raw, "utf16le").digest("hex").slice(0, 32)}`;
  // The JSON text of the value, fed to the hash piece by piece: literal pieces, and values still to write.
  const stack: ({ readonly text: string } | { readonly value: unknown })[] = [{ value: raw }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ("text" in item) {
      hash.update(item.text, "utf16le");
      continue;
    }
    const value = item.value;
    if (Array.isArray(value)) {
      stack.push({ text: "]" });
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i] }, { text: i === 0 ? "[" : "," });
      if (value.length === 0) stack.push({ text: "[" });
    } else if (typeof value === "object" && value !== null) {
      const entries = Object.entries(value);
      stack.push({ text: "}" });
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1] }, { text: `${i === 0 ? "{" : ","}${JSON.stringify(entries[i]![0])}:` });
      if (entries.length === 0) stack.push({ text: "{" });
    } else {
      hash.update(JSON.stringify(value) ?? "null", "utf16le");
    }
  }
  return `sha256-${hash.digest("hex").slice(0, 32)}`;
}

/** A role assignment id taken apart: the scope it grants at and the subscription, when it is one of the documented shapes. */
export type ParsedAssignmentId =
  | { readonly status: "ok"; readonly scope: string; readonly subscriptionId: string | null }
  | { readonly status: "invalid"; readonly reason: string };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// resource-name-rules.md: management groups 1–90 alphanumerics, hyphens, underscores, periods and
// parentheses; resource groups the same with Unicode letters and digits (Char.IsLetterOrDigit); neither
// may end with a period.
const MANAGEMENT_GROUP = /^[A-Za-z0-9_\-.()]{0,89}[A-Za-z0-9_\-()]$/;
const RESOURCE_GROUP = /^[\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nd}_\-.()]{0,89}[\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nd}_\-()]$/u;
const PROVIDER_NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)+$/;
const RESOURCE_TYPE = /^[A-Za-z][A-Za-z0-9]*$/;
// A resource's own name: rules differ per type, so only what no ARM id segment may hold is refused.
const RESOURCE_NAME = /^(?![.\s])(?!.*[.\s]$)[^\\?#%\p{Cc}]{1,260}$/u;
// Characters that are never part of an assignment id: a query, a fragment, escapes, back-slashes, controls.
const FOREIGN = /[?#%\\\p{Cc}]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * Accepts only a role assignment id of the documented shape,
 * {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}, where the scope is the root, a
 * management group, a subscription, a resource group or a resource in one; case-insensitive.
 */
export function parseRoleAssignmentId(uri: string): ParsedAssignmentId {
  const invalid = (why: string): ParsedAssignmentId => ({ status: "invalid", reason: `resourceUri ${quote(uri)} is not a role assignment id: ${why}` });
  if (uri.length > MAX_RESOURCE_URI_CHARS) return { status: "invalid", reason: `resourceUri is ${uri.length} characters long; a role assignment id has at most ${MAX_RESOURCE_URI_CHARS}` };
  if (!uri.startsWith("/")) return invalid("it does not start with /");
  if (FOREIGN.test(uri)) return invalid("it holds a character no assignment id has (? # % \\ or a control character)");
  const segments = uri.slice(1).split("/");
  if (segments.some((s) => s === "")) return invalid("it has an empty segment");
  if (segments.some((s) => s === "." || s === "..")) return invalid("it has a . or .. segment");
  const tail = segments.slice(-4);
  if (tail.length < 4 || !same(tail[0], "providers") || !same(tail[1], "Microsoft.Authorization") || !same(tail[2], "roleAssignments")) {
    return invalid("it does not end in /providers/Microsoft.Authorization/roleAssignments/{name}");
  }
  if (!GUID.test(tail[3] ?? "")) return invalid("the assignment name is not a GUID");
  const scope = segments.slice(0, -4);
  const scopeId = scope.length === 0 ? "/" : `/${scope.join("/")}`;
  const ok = (subscriptionId: string | null): ParsedAssignmentId => ({ status: "ok", scope: scopeId, subscriptionId });
  if (scope.length === 0) return ok(null);
  if (same(scope[0], "providers")) {
    if (scope.length !== 4 || !same(scope[1], "Microsoft.Management") || !same(scope[2], "managementGroups")) return invalid("a scope under /providers must be /providers/Microsoft.Management/managementGroups/{name}");
    return MANAGEMENT_GROUP.test(scope[3] ?? "") ? ok(null) : invalid("the management group name breaks Azure's naming rules");
  }
  if (!same(scope[0], "subscriptions") || scope.length < 2) return invalid("the scope is not the root, a management group or a subscription");
  const subscriptionId = scope[1] ?? "";
  if (!GUID.test(subscriptionId)) return invalid("the subscription id is not a GUID");
  if (scope.length === 2) return ok(subscriptionId.toLowerCase());
  if (!same(scope[2], "resourceGroups") || scope.length < 4) return invalid("below a subscription the scope must be a resource group");
  if (!RESOURCE_GROUP.test(scope[3] ?? "")) return invalid("the resource group name breaks Azure's naming rules");
  if (scope.length === 4) return ok(subscriptionId.toLowerCase());
  // …/providers/{namespace}/{type}/{name}[/{type}/{name}…]: a resource, or a child resource.
  const resource = scope.slice(4);
  if (!same(resource[0], "providers") || resource.length < 4 || resource.length % 2 !== 0) return invalid("below a resource group the scope must be /providers/{namespace}/{type}/{name}[/{type}/{name}…]");
  if (!PROVIDER_NAMESPACE.test(resource[1] ?? "") || same(resource[1], "Microsoft.Authorization")) return invalid("the resource provider namespace is not one a resource can have");
  for (let i = 2; i < resource.length; i += 2) {
    if (!RESOURCE_TYPE.test(resource[i] ?? "")) return invalid("a resource type is not a name of letters and digits");
    if (!RESOURCE_NAME.test(resource[i + 1] ?? "")) return invalid("a resource name breaks Azure's naming rules");
  }
  return ok(subscriptionId.toLowerCase());
}

// The id a rejection is recorded under: the event's own when it is usable, else a short clean
// prefix of it plus a hash of the whole, so distinct hostile ids stay distinct.
function rejectionId(id: string): string {
  if (id.length <= MAX_EVENT_ID_CHARS && isCleanText(id)) return id;
  return `${cleanText(id, 64)}~${contentId(id)}`;
}

function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/**
 * Validates one delivered event (Event Grid or CloudEvents schema; raw JSON text is accepted too).
 * Sizes are bounded before anything else; every value that is copied on (ids, claims) is clean text.
 */
export function parseGrantEvent(raw: unknown): ParsedEvent {
  let value = raw;
  if (typeof value === "string") {
    if (value.length > MAX_EVENT_BYTES) return { status: "rejected", eventId: contentId(raw), eventType: null, reason: `the event is larger than ${MAX_EVENT_BYTES} bytes, Event Grid's limit` };
    try {
      value = JSON.parse(value);
    } catch {
      return { status: "rejected", eventId: contentId(raw), eventType: null, reason: "the event is not JSON" };
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { status: "rejected", eventId: contentId(raw), eventType: null, reason: "the event is not a JSON object" };
  }
  const size = measureJson(value, MAX_EVENT_BYTES, MAX_EVENT_DEPTH);
  if (size !== "ok") {
    const reason = size === "tooLarge" ? `the event is larger than ${MAX_EVENT_BYTES} bytes, Event Grid's limit` : `the event nests deeper than ${MAX_EVENT_DEPTH} levels`;
    return { status: "rejected", eventId: idOf(value, raw), eventType: null, reason };
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

  const eventType = cleanText(envelope.type, 256);
  const reject = (reason: string): ParsedEvent => ({ status: "rejected", eventId: rejectionId(envelope.id), eventType, reason });
  // The id is copied into findings and is the ledger's row key: an unusable one is not judged.
  if (envelope.id.length > MAX_EVENT_ID_CHARS) return reject(`the event id is longer than ${MAX_EVENT_ID_CHARS} characters`);
  if (!isCleanText(envelope.id)) return reject("the event id holds a control character or a lone UTF-16 surrogate");
  if (envelope.type !== WRITE_TYPE && envelope.type !== DELETE_TYPE) {
    return reject(`event type ${quote(envelope.type)} is not ${WRITE_TYPE} or ${DELETE_TYPE}`);
  }
  let data = envelope.data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      return reject("the event's data is not JSON");
    }
    // Data sent as JSON text was not measured with the event: measure what it holds.
    const inner = measureJson(data, MAX_EVENT_BYTES, MAX_EVENT_DEPTH);
    if (inner !== "ok") return reject(inner === "tooLarge" ? `the event's data is larger than ${MAX_EVENT_BYTES} bytes` : `the event's data nests deeper than ${MAX_EVENT_DEPTH} levels`);
  }
  const parsedData = resourceDataSchema.safeParse(data);
  if (!parsedData.success) return reject(`the event's data is invalid: ${issuesOf(parsedData.error)}`);
  const d = parsedData.data;

  const operation = d.operationName.toLowerCase();
  const kind = operation === "microsoft.authorization/roleassignments/write" ? "write" : operation === "microsoft.authorization/roleassignments/delete" ? "delete" : null;
  if (kind === null) return reject(`operation ${quote(d.operationName)} is not a role assignment write or delete`);
  if ((kind === "write") !== (envelope.type === WRITE_TYPE)) {
    return reject(`operation ${quote(d.operationName)} does not fit event type ${envelope.type}`);
  }
  const assignment = parseRoleAssignmentId(d.resourceUri);
  if (assignment.status === "invalid") return reject(assignment.reason);
  if (!envelope.time || Number.isNaN(Date.parse(envelope.time))) return reject("the event has no valid time");

  const copied = (text: string | null | undefined) => (text ? cleanText(text, MAX_COPIED_CHARS) : null);
  return {
    status: "ok",
    event: {
      eventId: envelope.id,
      schema: envelope.schema,
      eventType: envelope.type,
      kind,
      assignmentId: d.resourceUri,
      scope: assignment.scope,
      subscriptionId: assignment.subscriptionId ?? copied(d.subscriptionId),
      tenantId: copied(d.tenantId),
      correlationId: copied(d.correlationId),
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

// The id of a delivery rejected before its envelope was read: its own id when it is a string, else its content's hash.
function idOf(value: object, raw: unknown): string {
  const id = (value as { id?: unknown }).id;
  return typeof id === "string" && id.length > 0 ? rejectionId(id) : contentId(raw);
}
