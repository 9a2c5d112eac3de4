import { describe, expect, it } from "vitest";
import { alertId, portalUrl, type Alert, type AlertTransition, type ResponseTaken } from "../../../shared/response/alert.js";
import {
  formatMessage,
  formatSummary,
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKey,
  SIGNATURE_HEADER,
  slackMessage,
  slackSummaryMessage,
  teamsMessage,
  teamsSummaryMessage,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  WEBHOOK_SUMMARY_MAX_BYTES,
  webhookMessage,
  webhookSummaryMessages,
} from "../../../shared/response/channels/index.js";
import { escapeMrkdwn } from "../../../shared/response/channels/slack.js";

const SUB = "00000000-0000-0000-0000-00000000abcd";
const NOW = 1_760_000_000;
const SECRET = "s3cret-for-tests";

interface AlertSpec {
  readonly n?: number;
  readonly transition?: AlertTransition;
  readonly severity?: Alert["severity"];
  readonly response?: ResponseTaken;
  readonly reason?: string;
  readonly principalName?: string | null;
  readonly scope?: string;
}

/** A realistic alert: Owner granted to a guest at a subscription. */
function alert(spec: AlertSpec = {}): Alert {
  const n = spec.n ?? 1;
  const findingId = `finding-${n}`;
  const transition = spec.transition ?? "opened";
  const at = `2025-10-09T12:${String(n % 60).padStart(2, "0")}:00Z`;
  const scope = spec.scope ?? `/subscriptions/${SUB}/resourceGroups/rg-payments-${n}`;
  return {
    id: alertId(findingId, transition, at),
    findingId,
    transition,
    at,
    severity: spec.severity ?? "critical",
    policyId: "owner-to-guest",
    policyTitle: "Owner granted to a guest account",
    reason: spec.reason ?? "principal.userType == 'Guest' (Guest) and role.name == 'Owner' (Owner)",
    principal: { id: `1111-${n}`, type: "User", name: spec.principalName === undefined ? `Mallory Guest ${n}` : spec.principalName },
    role: { id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", name: "Owner" },
    scope,
    scopeLevel: "resourceGroup",
    subscriptionId: SUB,
    grantedBy: "admin@contoso.example",
    grantedByIpAddress: "203.0.113.7",
    mode: spec.response?.kind === "wouldRevoke" ? "audit" : "enforce",
    response: spec.response ?? { kind: "revoked", backupId: "bk-42" },
    lookup: { findingId, command: `grantguard findings show ${findingId}`, portalUrl: portalUrl(scope) },
  };
}

function many(count: number): Alert[] {
  return Array.from({ length: count }, (_, i) => alert({ n: i + 1, severity: (["low", "medium", "high", "critical"] as const)[i % 4] }));
}

interface TeamsBody {
  type: string;
  attachments: { contentType: string; contentUrl: null; content: { type: string; version: string; body: unknown[]; actions?: { type: string; url: string }[] } }[];
}

/** Every string in a JSON value, depth first: the text a card or a message shows. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

function textOf(body: string): string {
  return strings(JSON.parse(body)).join("\n");
}

describe("teamsMessage", () => {
  it("is a Workflows message with one Adaptive Card telling the whole story", () => {
    const a = alert();
    const message = teamsMessage("https://example.invalid/workflows/hook", [a]);
    expect(message.url).toBe("https://example.invalid/workflows/hook");
    expect(message.headers["content-type"]).toBe("application/json");
    expect(message.headers[IDEMPOTENCY_KEY_HEADER]).toBe(a.id);

    const body = JSON.parse(message.body) as TeamsBody;
    expect(body.type).toBe("message");
    expect(body.attachments).toHaveLength(1);
    const [attachment] = body.attachments;
    expect(attachment?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(attachment?.contentUrl).toBeNull();
    expect(attachment?.content.type).toBe("AdaptiveCard");
    expect(Number(attachment?.content.version)).toBeGreaterThanOrEqual(1.4);
    expect(attachment?.content.actions).toEqual([expect.objectContaining({ type: "Action.OpenUrl", url: a.lookup.portalUrl })]);

    const text = textOf(message.body);
    for (const fact of ["Mallory Guest 1", "Owner", a.scope, "admin@contoso.example", "203.0.113.7", "Owner granted to a guest account", a.reason, "Revoked (backup bk-42)", "CRITICAL", a.lookup.command]) {
      expect(text).toContain(fact);
    }
  });

  it("says plainly what grantguard did", () => {
    const cases: [ResponseTaken, string][] = [
      [{ kind: "alerted" }, "Alerted"],
      [{ kind: "wouldRevoke", detail: "" }, "Would have revoked — audit mode: set GRANTGUARD_MODE=enforce to revoke"],
      [{ kind: "revocationBlocked", detail: "the assignment is inherited from a management group" }, "Revocation blocked: the assignment is inherited from a management group"],
      [{ kind: "revocationFailed", detail: "403 AuthorizationFailed" }, "Revocation failed: 403 AuthorizationFailed"],
    ];
    for (const [response, said] of cases) {
      expect(textOf(teamsMessage("https://t.invalid", [alert({ response })]).body)).toContain(said);
    }
  });

  it("names a principal without a display name by its id, and cuts long reasons", () => {
    const reason = "x".repeat(5_000);
    const text = textOf(teamsMessage("https://t.invalid", [alert({ principalName: null, reason })]).body);
    expect(text).toContain("User 1111-1");
    expect(text).not.toContain("x".repeat(1_001));
    expect(text).toContain(`${"x".repeat(990)}…`);
  });

  it("lists a digest of 30 alerts compactly: 25 entries and 'and 5 more'", () => {
    const alerts = many(30);
    const message = teamsMessage("https://t.invalid", alerts);
    const body = JSON.parse(message.body) as TeamsBody;
    expect(body.attachments).toHaveLength(1);
    const text = textOf(message.body);
    expect(text).toContain("30 alerts");
    expect(text).toContain("and 5 more");
    const listed = alerts.filter((a) => text.includes(`Mallory Guest ${a.principal.id.slice(5)}\n`) || text.includes(`${a.lookup.command}\n`));
    expect(listed).toHaveLength(25);
    // Most severe first: every critical alert is listed.
    for (const a of alerts.filter((x) => x.severity === "critical")) expect(text).toContain(a.lookup.command);
    expect(Buffer.byteLength(message.body)).toBeLessThan(28_000);
    expect(message.headers[IDEMPOTENCY_KEY_HEADER]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps a digest of very long alerts under the Teams size limit", () => {
    const alerts = Array.from({ length: 25 }, (_, i) => alert({ n: i, reason: "r".repeat(3_000), scope: `/subscriptions/${SUB}/resourceGroups/${"g".repeat(90)}/providers/Microsoft.Storage/storageAccounts/${"s".repeat(24)}` }));
    const message = teamsMessage("https://t.invalid", alerts);
    expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(27_000);
    const text = textOf(message.body);
    expect(text).toContain("25 alerts");
    // Fewer entries fit: the rest are counted, never silently dropped.
    expect(text).toMatch(/and \d+ more/);
  });
});

interface SlackBody {
  text: string;
  blocks: { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { type: string; text?: unknown; url?: string }[]; accessory?: { url: string } }[];
}

function expectWithinSlackLimits(body: SlackBody): void {
  expect(body.blocks.length).toBeLessThanOrEqual(50);
  for (const block of body.blocks) {
    if (block.type === "header") expect(block.text?.text.length).toBeLessThanOrEqual(150);
    if (block.type === "section") {
      expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3_000);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2_000);
    }
    if (block.type === "context") expect(block.elements?.length).toBeLessThanOrEqual(10);
  }
}

/** The texts Slack reads as mrkdwn: the fallback, section texts and fields, context elements. */
function mrkdwnTexts(body: SlackBody): string[] {
  const texts = [body.text];
  for (const block of body.blocks) {
    if (block.type === "section" && block.text !== undefined) texts.push(block.text.text);
    for (const field of block.fields ?? []) texts.push(field.text);
    if (block.type === "context") for (const e of block.elements ?? []) if (e.type === "mrkdwn" && typeof e.text === "string") texts.push(e.text);
  }
  return texts;
}

describe("slackMessage", () => {
  it("has a fallback text, a header, fields, context and a portal button", () => {
    const a = alert({ response: { kind: "wouldRevoke", detail: "" } });
    const message = slackMessage("https://hooks.slack.invalid/services/T/B/X", [a]);
    expect(message.headers[IDEMPOTENCY_KEY_HEADER]).toBe(a.id);
    const body = JSON.parse(message.body) as SlackBody;
    expect(body.text).toContain("CRITICAL");
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context", "actions"]);
    expect(body.blocks[0]?.text?.type).toBe("plain_text");
    expect(body.blocks.find((b) => b.type === "actions")?.elements?.[0]?.url).toBe(a.lookup.portalUrl);
    const text = textOf(message.body);
    for (const fact of ["Mallory Guest 1", "Owner", a.scope, "admin@contoso.example", "Owner granted to a guest account", "Would have revoked — audit mode: set GRANTGUARD_MODE=enforce to revoke", a.lookup.command]) {
      expect(text).toContain(fact);
    }
    expectWithinSlackLimits(body);
  });

  it("escapes <, > and & in mrkdwn", () => {
    expect(escapeMrkdwn("a < b && c > d")).toBe("a &lt; b &amp;&amp; c &gt; d");
    const a = alert({ principalName: "<!channel> Tom & Jerry", reason: "name matches <@U123> & <https://evil.invalid|click>" });
    const body = JSON.parse(slackMessage("https://s.invalid", [a]).body) as SlackBody;
    const all = mrkdwnTexts(body).join("\n");
    expect(all).toContain("&lt;!channel&gt; Tom &amp; Jerry");
    expect(all).toContain("&lt;@U123&gt; &amp; &lt;https://evil.invalid|click&gt;");
    expect(all).not.toMatch(/<[!@h]/);
  });

  it("keeps to Block Kit limits however long the values, without cutting an entity in half", () => {
    const a = alert({ reason: "<&>".repeat(2_000), principalName: "&".repeat(3_000), scope: `/subscriptions/${SUB}/${"<".repeat(2_000)}` });
    const body = JSON.parse(slackMessage("https://s.invalid", [a]).body) as SlackBody;
    expectWithinSlackLimits(body);
    for (const t of mrkdwnTexts(body)) expect(t).not.toMatch(/&(a|am|l|g|lt|gt)?$|&(?!amp;|lt;|gt;)/);
  });

  it("lists a digest of 30 alerts: 25 entries and 'and 5 more', within the limits", () => {
    const alerts = many(30);
    const body = JSON.parse(slackMessage("https://s.invalid", alerts).body) as SlackBody;
    expectWithinSlackLimits(body);
    expect(body.text).toContain("30 alerts");
    expect(body.blocks.filter((b) => b.type === "section" && b.accessory !== undefined)).toHaveLength(25);
    expect(textOf(JSON.stringify(body))).toContain("and 5 more");
  });
});

describe("webhookMessage and verifyWebhookSignature", () => {
  const a = alert();
  const message = webhookMessage("https://receiver.invalid/hook", SECRET, [a], NOW + 0.75);
  const headers = message.headers;
  const check = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) =>
    verifyWebhookSignature({
      secret: SECRET,
      timestamp: headers[TIMESTAMP_HEADER],
      signature: headers[SIGNATURE_HEADER],
      body: message.body,
      nowSeconds: NOW + 10,
      ...over,
    });

  it("carries the alerts as an array, the headers and a verifiable signature", () => {
    expect(JSON.parse(message.body)).toEqual({ alerts: [JSON.parse(JSON.stringify(a))] });
    expect(headers["content-type"]).toBe("application/json");
    expect(headers[TIMESTAMP_HEADER]).toBe(String(NOW));
    expect(headers[SIGNATURE_HEADER]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(headers[IDEMPOTENCY_KEY_HEADER]).toBe(a.id);
    expect(check()).toEqual({ ok: true });
  });

  it("rejects a changed body, a changed timestamp and a wrong secret", () => {
    expect(check({ body: message.body.replace("Owner", "Reader") })).toMatchObject({ ok: false, reason: expect.stringContaining("signature") });
    expect(check({ timestamp: String(NOW + 1) })).toMatchObject({ ok: false, reason: expect.stringContaining("signature") });
    expect(check({ secret: "another-secret" })).toMatchObject({ ok: false, reason: expect.stringContaining("signature") });
  });

  it("rejects stale and future timestamps beyond the tolerance", () => {
    expect(check({ nowSeconds: NOW + 300 })).toEqual({ ok: true });
    expect(check({ nowSeconds: NOW + 301 })).toMatchObject({ ok: false, reason: expect.stringContaining("stale") });
    expect(check({ nowSeconds: NOW - 301 })).toMatchObject({ ok: false, reason: expect.stringContaining("future") });
    expect(check({ nowSeconds: NOW + 50, toleranceSeconds: 30 })).toMatchObject({ ok: false, reason: expect.stringContaining("stale") });
  });

  it("rejects missing and garbage headers", () => {
    const hex = headers[SIGNATURE_HEADER]?.slice(3) ?? "";
    for (const over of [
      { timestamp: undefined },
      { timestamp: null },
      { timestamp: "" },
      { timestamp: "yesterday" },
      { timestamp: "-1" },
      { timestamp: "1e9" },
      { signature: undefined },
      { signature: "" },
      { signature: hex },
      { signature: `v0=${hex}` },
      { signature: `v1=${hex.slice(2)}` },
      { signature: `v1=${hex}00` },
      { signature: `v1=${"z".repeat(64)}` },
    ]) {
      expect(check(over), JSON.stringify(over)).toMatchObject({ ok: false });
    }
  });

  it("refuses to sign without a secret", () => {
    expect(() => webhookMessage("https://r.invalid", "", [a], NOW)).toThrow(TypeError);
    expect(() => formatMessage("webhook", { url: "https://r.invalid" }, [a], NOW)).toThrow(TypeError);
    expect(check({ secret: "" })).toMatchObject({ ok: false });
  });
});

describe("idempotency keys", () => {
  const alerts = many(3);

  it("are the alert id for one alert and stable for the same alerts, in any order", () => {
    const [first] = alerts;
    if (!first) throw new Error("no alert");
    expect(idempotencyKey([first])).toBe(first.id);
    const key = idempotencyKey(alerts);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(idempotencyKey(many(3))).toBe(key);
    expect(idempotencyKey([...alerts].reverse())).toBe(key);
    expect(idempotencyKey(alerts.slice(0, 2))).not.toBe(key);
  });

  it("are carried by every format, the same for the same alerts whenever sent", () => {
    for (const kind of ["teams", "slack", "webhook"] as const) {
      const target = { url: `https://${kind}.invalid/hook`, secret: SECRET };
      const one = formatMessage(kind, target, alerts, NOW);
      const again = formatMessage(kind, target, many(3), NOW + 60);
      expect(one.url).toBe(target.url);
      expect(one.headers[IDEMPOTENCY_KEY_HEADER]).toBe(idempotencyKey(alerts));
      expect(again.headers[IDEMPOTENCY_KEY_HEADER]).toBe(one.headers[IDEMPOTENCY_KEY_HEADER]);
    }
  });

  it("need at least one alert", () => {
    expect(() => teamsMessage("https://t.invalid", [])).toThrow(RangeError);
    expect(() => slackMessage("https://s.invalid", [])).toThrow(RangeError);
    expect(() => webhookMessage("https://w.invalid", SECRET, [], NOW)).toThrow(RangeError);
  });
});

/** A bulk change: `count` alerts over 12 policies, every severity, some resolved. */
function bulk(count: number, extra: Partial<AlertSpec> = {}): Alert[] {
  return Array.from({ length: count }, (_, i) => {
    const a = alert({ n: i + 1, severity: (["low", "medium", "high", "critical"] as const)[i % 4], transition: i % 5 === 0 ? "resolved" : "opened", ...extra });
    return { ...a, policyId: `policy-${i % 12}`, policyTitle: `Policy number ${i % 12}` };
  });
}

describe("summaries of a bulk change", () => {
  const alerts = bulk(1_000);

  it("on Teams: one Adaptive Card with the counts by severity and by policy, the most severe few, and how to see them all", () => {
    const message = teamsSummaryMessage("https://t.invalid", alerts);
    expect(message.headers[IDEMPOTENCY_KEY_HEADER]).toBe(idempotencyKey(alerts));
    const body = JSON.parse(message.body) as TeamsBody;
    expect(body.attachments).toHaveLength(1);
    expect(body.attachments[0]?.content.type).toBe("AdaptiveCard");
    expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(27_000);
    const text = textOf(message.body);
    expect(text).toContain("1000 alerts at once (800 opened, 200 resolved)");
    expect(text).toContain("250 critical, 250 high, 250 medium, 250 low");
    expect(text).toContain("Policy number 0 (policy-0)");
    expect(text).toContain("2 other policies");
    expect(text).toContain("The 5 most severe");
    expect(text).toContain("and 995 more");
    expect(text).toContain("npx grantguard alerts list --json");
    expect(text).toContain(idempotencyKey(alerts));
    // Only critical alerts are among the most severe.
    const listed = alerts.filter((a) => text.includes(`${a.lookup.command}\n`) || text.endsWith(a.lookup.command));
    expect(listed.length).toBe(5);
    expect(listed.every((a) => a.severity === "critical")).toBe(true);
  });

  it("on Teams: stays under the size limit with very long alerts, listing fewer of them", () => {
    const long = bulk(50, { reason: "r".repeat(3_000), scope: `/subscriptions/${SUB}/resourceGroups/${"g".repeat(90)}` });
    const message = teamsSummaryMessage("https://t.invalid", long);
    expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(27_000);
    expect(textOf(message.body)).toContain("50 alerts at once");
  });

  it("on Slack: one message within Block Kit's limits, with the same counts and the way to see them all", () => {
    const message = slackSummaryMessage("https://s.invalid", alerts);
    const body = JSON.parse(message.body) as SlackBody;
    expectWithinSlackLimits(body);
    expect(body.text).toContain("1000 alerts at once");
    const text = mrkdwnTexts(body).join("\n");
    expect(text).toContain("250 critical, 250 high, 250 medium, 250 low");
    expect(text).toContain("• 84 × Policy number 0 (`policy-0`)");
    expect(text).toContain("• 166 × 2 other policies");
    expect(body.blocks.filter((b) => b.type === "section" && b.accessory !== undefined)).toHaveLength(5);
    expect(text).toContain("and 995 more");
    expect(text).toContain("npx grantguard alerts list --json");
  });

  it("on the webhook: every alert in full with the counts, signed, in one message when it fits", () => {
    const few = bulk(30);
    const [part, ...rest] = webhookSummaryMessages("https://w.invalid/hook", SECRET, few, NOW);
    expect(rest).toEqual([]);
    const { message } = part!;
    const body = JSON.parse(message.body) as { summary: Record<string, unknown>; alerts: Alert[] };
    expect(body.alerts.map((a) => a.id)).toEqual(few.map((a) => a.id));
    expect(body.summary).toEqual({ alerts: 30, bySeverity: { critical: 7, high: 7, medium: 8, low: 8 }, byPolicy: expect.arrayContaining([{ policyId: "policy-0", policyTitle: "Policy number 0", count: 3 }]), part: 1, parts: 1 });
    expect(message.headers[IDEMPOTENCY_KEY_HEADER]).toBe(idempotencyKey(few));
    expect(verifyWebhookSignature({ secret: SECRET, timestamp: message.headers[TIMESTAMP_HEADER], signature: message.headers[SIGNATURE_HEADER], body: message.body, nowSeconds: NOW })).toEqual({ ok: true });
  });

  it("on the webhook: a round too large for one body goes in signed parts, each about 1 MB at most, every alert in exactly one", () => {
    const large = bulk(3_000, { reason: "why ".repeat(200) });
    const parts = webhookSummaryMessages("https://w.invalid/hook", SECRET, large, NOW);
    expect(parts.length).toBeGreaterThan(1);
    const seen: string[] = [];
    for (const [i, { message, alerts: carried }] of parts.entries()) {
      expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(WEBHOOK_SUMMARY_MAX_BYTES + 10_000);
      const body = JSON.parse(message.body) as { summary: { alerts: number; part: number; parts: number }; alerts: Alert[] };
      expect(body.summary).toMatchObject({ alerts: 3_000, part: i + 1, parts: parts.length });
      expect(body.alerts.map((a) => a.id)).toEqual(carried.map((a) => a.id));
      expect(message.headers[IDEMPOTENCY_KEY_HEADER]).toBe(idempotencyKey(carried));
      expect(verifyWebhookSignature({ secret: SECRET, timestamp: message.headers[TIMESTAMP_HEADER], signature: message.headers[SIGNATURE_HEADER], body: message.body, nowSeconds: NOW })).toEqual({ ok: true });
      seen.push(...body.alerts.map((a) => a.id));
    }
    expect(seen.sort()).toEqual(large.map((a) => a.id).sort());
  });

  it("are made for every channel by formatSummary, and need a secret for the webhook", () => {
    for (const kind of ["teams", "slack", "webhook"] as const) {
      const [first] = formatSummary(kind, { url: `https://${kind}.invalid/hook`, secret: SECRET }, alerts, NOW);
      expect(first?.alerts).toHaveLength(kind === "webhook" ? first!.alerts.length : 1_000);
      expect(first?.message.url).toBe(`https://${kind}.invalid/hook`);
    }
    expect(() => formatSummary("webhook", { url: "https://w.invalid" }, alerts, NOW)).toThrow(TypeError);
    expect(() => formatSummary("teams", { url: "https://t.invalid" }, [], NOW)).toThrow(RangeError);
  });
});
