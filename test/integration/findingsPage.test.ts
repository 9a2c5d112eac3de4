import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { getRuntime } from "../../shared/runtime.js";
import { DevHost } from "../../local/devhost.js";
import { setUpPageSignIn } from "../../local/demoUsers.js";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import { EXPORT_COLUMNS } from "../../shared/http/export.js";
import { fixture, readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The findings page in a real headless Chromium: sign in through the local Entra ID's
// authorization code flow with PKCE, filter, open a finding's story, look up who had access, export.

const CHROMIUM = "/usr/bin/chromium";
// Without the background-networking flags Chromium's own connections are refused on these machines.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SCREENSHOTS = fileURLToPath(new URL("../../.scratch/", import.meta.url));

let azure: TestAzure;
let host: DevHost;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: install it (apt-get install -y chromium) to run the findings page's browser test`);
  azure = await startTestAzure();
  host = new DevHost(() => undefined);
  await host.start();
  const runtime = await getRuntime();
  // Findings to look at: a guest's Owner grant judged, and a member's Reader grant.
  for (const name of ["events/guest-owner-write.json", "events/member-reader-write.json"]) await runtime.judgeGrantEvent(await readFixture(name));
  expect(setUpPageSignIn(azure.local.simulator, await readTenantSnapshot(fixture("tenants/small.json")), host.httpUrl("page"))).not.toBeNull();
  // Playwright gives every launch a fresh profile directory of its own (a --user-data-dir it makes and removes).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await azure?.stop();
});

async function signedIn(userButton: RegExp): Promise<Page> {
  // The local Entra ID serves https with this run's own certificate, which Chromium's store does not hold.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(host.httpUrl("page"));
  await expect.poll(() => page.getByRole("status").textContent()).toContain("Sign in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: userButton }).click();
  await page.waitForURL(host.httpUrl("page"));
  return page;
}

describe("the findings page in Chromium", () => {
  it("signs an auditor in, shows the open findings most severe first, filters, tells a finding's story, finds who had access, and exports", async () => {
    const page = await signedIn(/ada@contoso\.com/);
    await expect.poll(() => page.locator("#who").textContent()).toContain("Signed in as Ada");
    const rows = page.locator("#findings tbody tr");
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    const severities = await page.locator("#findings tbody td.sev").allTextContents();
    const order = ["Critical", "High", "Medium", "Low"];
    expect(severities.map((s) => order.indexOf(s))).toEqual([...severities.map((s) => order.indexOf(s))].sort((a, b) => a - b));

    // Filter: high only.
    await page.getByLabel("Severity").selectOption("high");
    await page.getByRole("button", { name: "Show findings" }).click();
    await expect.poll(async () => [...new Set(await page.locator("#findings tbody td.sev").allTextContents())]).toEqual(["High"]);
    const shown = await rows.count();
    expect(await page.locator("#summary").textContent()).toContain(`${shown} finding(s) shown`);

    // A finding's story, opened from the keyboard.
    await page.locator("#findings tbody tr").filter({ hasText: "Guest account with a privileged role" }).focus();
    await page.keyboard.press("Enter");
    const story = page.locator("#story");
    await expect.poll(() => story.isVisible()).toBe(true);
    expect(await story.textContent()).toContain("Granted by");
    expect(await page.locator("#story-steps").textContent()).toContain("Owner granted to");
    expect(await page.locator("#story-matched").textContent()).toContain("principal.guest");
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "findings-page.png"), fullPage: true });

    // Who had access on the guest's subscription now.
    await page.locator("#access-form").getByLabel("Scope").fill("/subscriptions/11111111-1111-4111-8111-111111111111");
    await page.getByRole("button", { name: "Show who had access" }).click();
    await expect.poll(() => page.locator("#access tbody tr").count()).toBeGreaterThan(0);
    expect(await page.locator("#access tbody").textContent()).toContain("Owner");

    // Export what is filtered.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^grantguard-findings-.*\.csv$/);
    const csv = await readFile((await download.path())!, "utf8");
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(","));
    expect(lines).toHaveLength(shown + 1);
    await page.context().close();
  });

  it("tells a signed-in user without a grantguard role that they may not see findings", async () => {
    const page = await signedIn(/no app role/);
    await expect.poll(() => page.getByRole("status").textContent()).toContain("you may not see this");
    expect(await page.locator("#findings tbody tr").count()).toBe(0);
    await page.context().close();
  });
});
