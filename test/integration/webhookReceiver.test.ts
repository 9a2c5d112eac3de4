import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebhookReceiver } from "../../local/webhookReceiver.js";
import { alertId, portalUrl, type Alert } from "../../shared/response/alert.js";
import { formatMessage, IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, type ChannelMessage } from "../../shared/response/channels/index.js";

const SECRET = "receiver-test-secret";

function alert(n: number): Alert {
  const findingId = `finding-${n}`;
  const at = "2025-10-09T12:00:00Z";
  const scope = `/subscriptions/00000000-0000-0000-0000-00000000abcd/resourceGroups/rg-${n}`;
  return {
    id: alertId(findingId, "opened", at),
    findingId,
    transition: "opened",
    at,
    severity: "high",
    policyId: "user-access-admin",
    policyTitle: "User Access Administrator granted outside PIM",
    reason: "role.name == 'User Access Administrator' and assignment.pim == false",
    principal: { id: `2222-${n}`, type: "ServicePrincipal", name: `deploy-bot-${n}` },
    role: { id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", name: "User Access Administrator" },
    scope,
    scopeLevel: "resourceGroup",
    subscriptionId: "00000000-0000-0000-0000-00000000abcd",
    grantedBy: "ops@contoso.example",
    grantedByIpAddress: null,
    mode: "enforce",
    response: { kind: "alerted" },
    lookup: { findingId, command: `grantguard findings show ${findingId}`, portalUrl: portalUrl(scope) },
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function post(message: ChannelMessage): Promise<number> {
  const response = await fetch(message.url, { method: "POST", headers: message.headers, body: message.body });
  await response.arrayBuffer();
  return response.status;
}

describe("WebhookReceiver", () => {
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = new WebhookReceiver({ secret: SECRET });
    await receiver.start();
  });

  afterEach(async () => {
    await receiver.stop();
  });

  it("accepts and verifies a signed webhook message", async () => {
    const message = formatMessage("webhook", { url: receiver.url(), secret: SECRET }, [alert(1)], nowSeconds());
    expect(await post(message)).toBe(200);
    expect(receiver.received).toHaveLength(1);
    const [entry] = receiver.received;
    expect(entry).toMatchObject({ path: "/hook", verified: true, duplicate: false, status: 200 });
    expect(entry?.body).toEqual({ alerts: [expect.objectContaining({ id: alert(1).id, findingId: "finding-1" })] });
    expect(entry?.headers[IDEMPOTENCY_KEY_HEADER]).toBe(alert(1).id);
    expect(receiver.uniqueDeliveries()).toHaveLength(1);
  });

  it("answers 401 to a forged message", async () => {
    const forged = formatMessage("webhook", { url: receiver.url("/forged"), secret: "not-the-secret" }, [alert(2)], nowSeconds());
    expect(await post(forged)).toBe(401);
    const genuine = formatMessage("webhook", { url: receiver.url(), secret: SECRET }, [alert(3)], nowSeconds());
    expect(await post({ ...genuine, body: genuine.body.replace("deploy-bot-3", "innocent-bot") })).toBe(401);
    const unsigned = { ...genuine, headers: { "content-type": "application/json" } };
    expect(await post(unsigned)).toBe(401);
    expect(receiver.received.map((r) => [r.path, r.verified, r.status])).toEqual([
      ["/forged", false, 401],
      ["/hook", false, 401],
      ["/hook", false, 401],
    ]);
    expect(receiver.uniqueDeliveries()).toEqual([]);
  });

  it("fails the next two requests with 500 when told to, then accepts", async () => {
    receiver.failNext(2);
    const message = formatMessage("webhook", { url: receiver.url(), secret: SECRET }, [alert(4)], nowSeconds());
    const statuses = [await post(message), await post(message), await post(message)];
    expect(statuses).toEqual([500, 500, 200]);
    // The retries after the failures are not duplicates: nothing was accepted before.
    expect(receiver.received.map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(receiver.uniqueDeliveries()).toHaveLength(1);
  });

  it("records a repeated idempotency key as a duplicate, answering 200", async () => {
    const first = formatMessage("webhook", { url: receiver.url(), secret: SECRET }, [alert(5), alert(6)], nowSeconds());
    const again = formatMessage("webhook", { url: receiver.url(), secret: SECRET }, [alert(6), alert(5)], nowSeconds() + 1);
    expect(again.headers[IDEMPOTENCY_KEY_HEADER]).toBe(first.headers[IDEMPOTENCY_KEY_HEADER]);
    expect(again.headers[SIGNATURE_HEADER]).not.toBe(first.headers[SIGNATURE_HEADER]);
    expect(await post(first)).toBe(200);
    expect(await post(again)).toBe(200);
    expect(receiver.received.map((r) => [r.verified, r.duplicate])).toEqual([
      [true, false],
      [true, true],
    ]);
    expect(receiver.uniqueDeliveries()).toHaveLength(1);
  });

  it("plays Teams and Slack on other paths (no signature to check there without a secret)", async () => {
    const plain = new WebhookReceiver();
    await plain.start();
    try {
      const teams = formatMessage("teams", { url: plain.url("/teams") }, [alert(7)], nowSeconds());
      const slack = formatMessage("slack", { url: plain.url("/slack") }, [alert(7), alert(8)], nowSeconds());
      expect(await post(teams)).toBe(200);
      expect(await post(slack)).toBe(200);
      expect(plain.received.map((r) => [r.path, r.verified, r.duplicate])).toEqual([
        ["/teams", null, false],
        ["/slack", null, false],
      ]);
      expect(plain.received[0]?.body).toMatchObject({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive" }] });
      expect(plain.received[1]?.body).toMatchObject({ text: expect.stringContaining("2 alerts") });
    } finally {
      await plain.stop();
    }
  });
});
