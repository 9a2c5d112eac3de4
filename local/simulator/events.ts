import { randomUUID } from "node:crypto";
import type { ArmRoleAssignment } from "../../shared/model/azure.js";
import type { TokenClaims } from "./jwt.js";

/** An Event Grid event as a subscription system topic emits it for a role-assignment write or delete. */
export type ResourceEvent = Record<string, unknown> & { id: string; eventType: string; subject: string };

/** What ARM did to a role assignment, as the event about it tells. */
export interface AssignmentChange {
  readonly eventType: "Microsoft.Resources.ResourceWriteSuccess" | "Microsoft.Resources.ResourceDeleteSuccess";
  readonly operationName: string;
  readonly assignment: ArmRoleAssignment;
  /** The assignment's id as the caller's request path spelled it. */
  readonly requestedId: string;
  readonly caller: TokenClaims;
  /** The request's method when the event carries httpRequest (an update or a delete), else null. */
  readonly httpMethod: "PUT" | "DELETE" | null;
  readonly tenantId: string;
}

/**
 * The event a subscription's system topic publishes for a role-assignment change, or null when
 * none is published.
 */
export function resourceEventOf(change: AssignmentChange): ResourceEvent | null {
  // Event Grid has system topics for subscriptions and resource groups only
  // (Microsoft.Resources.Subscriptions / Microsoft.Resources.ResourceGroups): a write at a
  // management group or at the root "/" emits nothing. The event spells the resource as the
  // caller's request path did. `httpRequest` comes only with an update or a delete.
  const { assignment, requestedId, caller, httpMethod, operationName } = change;
  const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(assignment.properties.scope)?.[1] ?? null;
  if (subscriptionId === null) return null;
  const claims: Record<string, string> = {
    aud: caller.aud,
    iss: caller.iss,
    "http://schemas.microsoft.com/identity/claims/objectidentifier": caller.oid,
    "http://schemas.microsoft.com/identity/claims/tenantid": caller.tid,
    idtyp: caller.idtyp,
    ipaddr: "127.0.0.1",
    ...(caller.appid ? { appid: caller.appid } : {}),
    ...(caller.upn ? { "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller.upn } : {}),
    ...(caller.name ? { name: caller.name } : {}),
  };
  return {
    id: randomUUID(),
    topic: `/subscriptions/${subscriptionId}`,
    subject: requestedId,
    eventType: change.eventType,
    eventTime: new Date().toISOString(),
    dataVersion: "2",
    metadataVersion: "1",
    data: {
      authorization: { scope: requestedId, action: operationName, evidence: { role: "caller's own authorising assignment", principalId: caller.oid } },
      claims,
      correlationId: randomUUID(),
      ...(httpMethod ? { httpRequest: { clientRequestId: randomUUID(), clientIpAddress: "127.0.0.1", method: httpMethod, url: `https://management.azure.com${requestedId}?api-version=2022-04-01` } } : {}),
      operationName,
      resourceProvider: "Microsoft.Authorization",
      resourceUri: requestedId,
      status: "Succeeded",
      subscriptionId,
      tenantId: change.tenantId,
    },
  };
}

/** The events the simulated resources emit, delivered to whoever listens (the local Event Grid, tests). */
export class ResourceEvents {
  readonly #listeners: ((event: ResourceEvent) => void)[] = [];

  /** Calls `listener` with every event emitted from now on. */
  on(listener: (event: ResourceEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Publishes the event of a role-assignment change, if Event Grid would publish one. */
  assignmentChanged(change: AssignmentChange): void {
    const event = resourceEventOf(change);
    if (event === null) return;
    for (const listener of this.#listeners) listener(event);
  }
}
