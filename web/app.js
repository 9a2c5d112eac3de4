// The findings page: signs in with Entra ID (authorization code flow with PKCE, as a single-page
// application), then reads grantguard's API with the access token. Plain JavaScript, no framework.

const $ = (selector) => document.querySelector(selector);
const SEVERITY_WORDS = { critical: "Critical", high: "High", medium: "Medium", low: "Low" };
const STATUS_WORDS = { open: "Open", exempted: "Exempted (risk accepted)", resolved: "Resolved" };
const KEY = "grantguard.page";

let settings = null;
let accessToken = null;
let findingsToken = null;
let accessPageToken = null;

function say(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

async function signIn() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(`${KEY}.pkce`, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({ client_id: settings.clientId, response_type: "code", redirect_uri: redirectUri(), response_mode: "query", scope: settings.scope, state, code_challenge: challenge, code_challenge_method: "S256" });
  location.assign(`${settings.authority}/${settings.tenantId}/oauth2/v2.0/authorize?${query}`);
}

async function finishSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem(`${KEY}.pkce`) ?? "null");
  sessionStorage.removeItem(`${KEY}.pkce`);
  history.replaceState(null, "", redirectUri());
  if (params.get("error")) throw new Error(`sign-in failed: ${params.get("error_description") ?? params.get("error")}`);
  if (!saved || saved.state !== params.get("state")) throw new Error("sign-in failed: the answer does not belong to this page's request; sign in again");
  const body = new URLSearchParams({ client_id: settings.clientId, grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectUri(), code_verifier: saved.verifier, scope: settings.scope });
  const response = await fetch(`${settings.authority}/${settings.tenantId}/oauth2/v2.0/token`, { method: "POST", body });
  const answer = await response.json();
  if (!response.ok) throw new Error(`sign-in failed: ${answer.error_description ?? answer.error}`);
  return answer.access_token;
}

function showAccount() {
  const signedIn = accessToken !== null;
  $("#sign-in").hidden = signedIn;
  $("#sign-out").hidden = !signedIn;
  $("#main").hidden = !signedIn;
  if (!signedIn) {
    $("#who").textContent = "";
    return;
  }
  const claims = claimsOf(accessToken);
  const roles = (claims.roles ?? []).map((r) => r.replace("GrantGuard.", "")).join(", ") || "no grantguard role";
  $("#who").textContent = `Signed in as ${claims.name ?? claims.preferred_username} (${roles})`;
}

async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${accessToken}` } });
  if (response.status === 401) {
    accessToken = null;
    sessionStorage.removeItem(`${KEY}.token`);
    showAccount();
    throw new Error("your sign-in has ended: sign in again");
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (response.status === 403) throw new Error(`you may not see this: ${body.error}. Ask for the GrantGuard.Auditor role.`);
  if (!response.ok) throw new Error(body.error ?? `the API answered ${response.status}`);
  return body;
}

function filterQuery() {
  const form = new FormData($("#filters"));
  const query = new URLSearchParams();
  for (const [name, value] of form) if (String(value).trim() !== "") query.set(name, String(value).trim());
  return query;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  row.append(td);
  return td;
}

const day = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "");

async function loadFindings(more = false) {
  const query = filterQuery();
  query.set("pageSize", "50");
  if (more && findingsToken) query.set("continuationToken", findingsToken);
  say("Loading findings…");
  const page = await api(`findings?${query}`);
  const body = $("#findings tbody");
  if (!more) body.replaceChildren();
  for (const f of page.findings) {
    const row = document.createElement("tr");
    row.tabIndex = 0;
    row.dataset.id = f.id;
    cell(row, SEVERITY_WORDS[f.severity], `sev sev-${f.severity}`);
    cell(row, f.policyTitle);
    cell(row, `${f.principalName ?? f.principalId} (${f.principalType})`);
    cell(row, f.roleName);
    cell(row, f.scope, "where");
    cell(row, day(f.firstSeen));
    cell(row, STATUS_WORDS[f.status]);
    row.addEventListener("click", () => openStory(f.id).catch(fail));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openStory(f.id).catch(fail);
      }
    });
    body.append(row);
  }
  findingsToken = page.continuationToken;
  $("#more").hidden = !findingsToken;
  const rows = [...body.querySelectorAll("tr")];
  const counts = Object.keys(SEVERITY_WORDS).map((s) => [s, rows.filter((r) => r.firstChild.classList.contains(`sev-${s}`)).length]).filter(([, n]) => n > 0);
  $("#summary").textContent = rows.length === 0 ? "No findings match." : `${rows.length} finding(s) shown${findingsToken ? " (more available)" : ""}: ${counts.map(([s, n]) => `${n} ${SEVERITY_WORDS[s].toLowerCase()}`).join(", ")}.`;
  say("");
}

async function openStory(id) {
  const { finding: f, story } = await api(`findings/${encodeURIComponent(id)}`);
  const facts = $("#story-facts");
  facts.replaceChildren();
  const fact = (term, value) => {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value ?? "unknown";
    facts.append(dt, dd);
  };
  fact("Finding", `${f.policyTitle} (${SEVERITY_WORDS[f.severity]})`);
  fact("Status", STATUS_WORDS[f.status]);
  fact("Who holds the access", `${f.principalName ?? f.principalId} (${f.principalType}, ${f.principalId})`);
  fact("Role", f.roleName);
  fact("Where", f.scope);
  fact("Granted by", f.grantedBy);
  fact("Why it matters", f.reason);
  if (f.exemptionOwner) fact("Risk accepted by", `${f.exemptionOwner} until ${day(f.exemptionExpires)}: ${f.exemptionJustification ?? ""}`);
  const steps = $("#story-steps");
  steps.replaceChildren(
    ...story.map((s) => {
      const li = document.createElement("li");
      li.textContent = `${s.at ? `${day(s.at)}: ` : ""}${s.what}${s.by ? ` — ${s.by}` : ""}`;
      return li;
    }),
  );
  const matched = $("#story-matched tbody");
  matched.replaceChildren(
    ...Object.entries(f.matchedFacts).map(([k, v]) => {
      const row = document.createElement("tr");
      cell(row, k);
      cell(row, JSON.stringify(v));
      return row;
    }),
  );
  $("#story").hidden = false;
  $("#story").focus();
}

async function exportFindings(format) {
  const query = filterQuery();
  query.set("format", format);
  say(`Preparing the ${format.toUpperCase()} export…`);
  const response = await fetch(`findings/export?${query}`, { headers: { authorization: `Bearer ${accessToken}` } });
  if (!response.ok) throw new Error((await response.json()).error ?? `the export failed (${response.status})`);
  const blob = await response.blob();
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? `grantguard-findings.${format}`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  say(`Exported ${name}.`);
}

async function loadAccess(more = false) {
  const form = new FormData($("#access-form"));
  const query = new URLSearchParams();
  for (const name of ["principal", "scope"]) if (String(form.get(name) ?? "").trim()) query.set(name, String(form.get(name)).trim());
  const at = String(form.get("at") ?? "");
  if (at) query.set("at", new Date(at).toISOString());
  if (more && accessPageToken) query.set("continuationToken", accessPageToken);
  say("Loading access history…");
  const page = await api(`access?${query}`);
  const body = $("#access tbody");
  if (!more) body.replaceChildren();
  for (const i of page.intervals) {
    const row = document.createElement("tr");
    cell(row, `${i.principalId} (${i.principalType})`);
    cell(row, i.roleName ?? i.roleDefinitionId);
    cell(row, i.scope, "where");
    cell(row, day(i.from));
    cell(row, i.to ? day(i.to) : "still held");
    cell(row, i.grantedBy);
    cell(row, `${i.openedBy === "event" ? "seen granted" : "seen in a sweep"}${i.closedBy ? `; ended: ${i.closedBy === "event" ? "seen removed" : "gone in a sweep"}` : ""}`);
    body.append(row);
  }
  accessPageToken = page.continuationToken;
  $("#access-more").hidden = !accessPageToken;
  say(page.intervals.length === 0 && !more ? `Nobody held access there at ${day(page.at)}, as far as grantguard has seen.` : "");
}

function fail(error) {
  say(error instanceof Error ? error.message : String(error), true);
}

async function start() {
  settings = await (await fetch("page/config.json")).json();
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    accessToken = await finishSignIn(params);
    sessionStorage.setItem(`${KEY}.token`, accessToken);
  } else {
    accessToken = sessionStorage.getItem(`${KEY}.token`);
    if (accessToken && claimsOf(accessToken).exp * 1000 < Date.now()) accessToken = null;
  }
  showAccount();
  if (accessToken) await loadFindings();
  else say("Sign in to see the findings.");
}

$("#sign-in").addEventListener("click", () => signIn().catch(fail));
$("#sign-out").addEventListener("click", () => {
  accessToken = null;
  sessionStorage.removeItem(`${KEY}.token`);
  showAccount();
  say("Signed out.");
});
$("#filters").addEventListener("submit", (event) => {
  event.preventDefault();
  loadFindings().catch(fail);
});
$("#more").addEventListener("click", () => loadFindings(true).catch(fail));
$("#export-csv").addEventListener("click", () => exportFindings("csv").catch(fail));
$("#export-json").addEventListener("click", () => exportFindings("json").catch(fail));
$("#story-close").addEventListener("click", () => {
  $("#story").hidden = true;
  $("#findings").focus();
});
$("#access-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadAccess().catch(fail);
});
$("#access-more").addEventListener("click", () => loadAccess(true).catch(fail));
start().catch(fail);
