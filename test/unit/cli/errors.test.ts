import { RestError } from "@azure/data-tables";
import { AggregateAuthenticationError, AuthenticationError, CredentialUnavailableError } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { TokenTimeoutError } from "../../../shared/azure/credential.js";
import { signInFailure } from "../../../shared/cli/azure.js";
import { failureOf, NoCredentialError, RelaunchNeeded, SignInError, UsageError, type AzureService } from "../../../shared/cli/errors.js";
import { ConcurrentChangeError, ConfigError, ConflictError, GrantGuardError, PolicyLoadError, PolicyValidationError, SnapshotError, StoreCorruptError } from "../../../shared/errors.js";
import { RoleAssignmentWriteRefusedError } from "../../../shared/response/writer.js";
import { RevocationNotFoundError } from "../../../shared/usecases/restoreAssignment.js";

const ARM = "https://management.azure.com";
const SERVICES: AzureService[] = [
  { name: "Azure Resource Manager", endpoint: ARM, needs: "Microsoft.Authorization/roleAssignments/read on the scopes you export" },
  { name: "Table Storage", endpoint: "https://acct.table.core.windows.net", needs: "Storage Table Data Reader on grantguard's storage account" },
];

/** An Azure SDK error as the pipeline throws it: a status (or a system code) and the request it answers. */
function restError(message: string, options: { statusCode?: number; code?: string; url: string }): RestError {
  return Object.assign(new RestError(message, { statusCode: options.statusCode, code: options.code }), { request: { url: options.url } });
}

describe("failureOf", () => {
  it("says a 403 in one line: the service, what the identity lacks there, and what Azure said; exit 3", () => {
    const error = restError("The client 'ops@contoso.com' with object id 'x' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '/subscriptions/s'.\nmore detail", { statusCode: 403, url: `${ARM}/subscriptions/s/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01` });
    const failure = failureOf(error, SERVICES);
    expect(failure.code).toBe(3);
    expect(failure.lines).toEqual([
      `grantguard: Azure refused: your identity lacks Microsoft.Authorization/roleAssignments/read on the scopes you export (HTTP 403 from Azure Resource Manager at ${ARM}: The client 'ops@contoso.com' with object id 'x' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '/subscriptions/s'.)`,
    ]);
  });

  it("names the service a refusal came from by the request's origin, also when the error wraps Azure's", () => {
    const inner = restError("This request is not authorized to perform this operation using this permission.", { statusCode: 403, url: "https://acct.table.core.windows.net/revocations()" });
    const failure = failureOf(new RoleAssignmentWriteRefusedError("refused", 403, { cause: inner }), SERVICES);
    expect(failure.code).toBe(3);
    expect(failure.lines[0]).toContain("your identity lacks Storage Table Data Reader on grantguard's storage account (HTTP 403 from Table Storage at https://acct.table.core.windows.net");
  });

  it("tells throttling and outages (after the SDK's retries) from refusals, and an unreachable endpoint from both; exit 3", () => {
    expect(failureOf(restError("busy", { statusCode: 503, url: ARM }), SERVICES)).toMatchObject({ code: 3, lines: [expect.stringMatching(/^grantguard: Azure is throttling or unavailable \(HTTP 503 from Azure Resource Manager at .*\): busy\. Try again later\.$/)] });
    expect(failureOf(restError("conflict", { statusCode: 409, url: ARM }), SERVICES).lines[0]).toMatch(/^grantguard: Azure refused the request \(HTTP 409 from Azure Resource Manager/);
    expect(failureOf(restError("connect ECONNREFUSED 127.0.0.1:1", { code: "ECONNREFUSED", url: "https://127.0.0.1:1/acct" }), SERVICES)).toMatchObject({ code: 3, lines: ["grantguard: cannot reach https://127.0.0.1:1 (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:1. Check the endpoint settings and the network."] });
  });

  it("maps the sign-in failures, the store's and the typed input errors to their exit codes", () => {
    expect(failureOf(new NoCredentialError("no Azure credential: sign in with `az login`")).code).toBe(3);
    expect(failureOf(new SignInError("Azure sign-in failed")).code).toBe(3);
    expect(failureOf(new StoreCorruptError("revocations/x: not a revocation")).code).toBe(3);
    expect(failureOf(new ConcurrentChangeError("the breaker kept changing")).code).toBe(3);
    expect(failureOf(new SnapshotError("t.json is not JSON")).code).toBe(2);
    expect(failureOf(new RevocationNotFoundError("no revocation 'x'")).code).toBe(2);
    expect(failureOf(new ConflictError("revocation x was blocked: nothing was deleted, so there is nothing to restore")).code).toBe(2);
    expect(failureOf(new GrantGuardError("cannot read the policy directory nope")).code).toBe(2);
    const broken = [new PolicyValidationError("a.yaml", 3, "p-1", "condition: No such key: x"), new PolicyValidationError("b.yaml", 1, undefined, "YAML: bad")];
    expect(failureOf(new PolicyLoadError(broken))).toEqual({ code: 2, lines: ["a.yaml:3 [p-1]: condition: No such key: x", "b.yaml:1: YAML: bad"], usage: false });
    expect(failureOf(new UsageError("evaluate needs --tenant FILE"))).toEqual({ code: 64, lines: ["grantguard: evaluate needs --tenant FILE"], usage: true });
    expect(failureOf(new ConfigError("GRANTGUARD_TABLE_ENDPOINT must be an https:// URL")).code).toBe(64);
    expect(failureOf(new RelaunchNeeded("this process does not trust the local Azure's certificate", { NODE_EXTRA_CA_CERTS: "/tmp/ca.pem" })).lines).toEqual(["grantguard: this process does not trust the local Azure's certificate: run it with NODE_EXTRA_CA_CERTS=/tmp/ca.pem"]);
  });

  it("calls anything else a defect, exit 70 — never 1, which a pipeline reads as findings", () => {
    const failure = failureOf(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(failure.code).toBe(70);
    expect(failure.lines).toEqual(["grantguard: unexpected failure: TypeError: Cannot read properties of undefined (reading 'x') (run again with --verbose to see where; this is a defect, please report it)"]);
    // What crashed --json at 500,000 assignments is a defect too, not bad usage.
    expect(failureOf(new RangeError("Invalid string length")).code).toBe(70);
  });
});

describe("signInFailure", () => {
  it("reads a chain where no credential was available as 'no Azure credential', saying how to sign in", () => {
    const chain = new AggregateAuthenticationError([new CredentialUnavailableError("EnvironmentCredential is unavailable."), new CredentialUnavailableError("Azure CLI could not be found.")], "ChainedTokenCredential authentication failed.");
    const error = signInFailure(chain);
    expect(error).toBeInstanceOf(NoCredentialError);
    expect((error as Error).message).toMatch(/^no Azure credential: sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/);
    expect((error as Error).cause).toBe(chain);
  });

  it("reads a chain where a credential was there but failed as a failed sign-in, with that credential's reason", () => {
    const refused = new AuthenticationError(400, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." });
    const error = signInFailure(new AggregateAuthenticationError([new CredentialUnavailableError("no managed identity"), refused]));
    expect(error).toBeInstanceOf(SignInError);
    expect((error as Error).message).toContain("AADSTS7000215: Invalid client secret provided.");
  });

  it("reads a token request that never finished as a failed sign-in, and leaves other errors alone", () => {
    expect(signInFailure(new TokenTimeoutError("no token for https://management.azure.com/.default within 60000 ms"))).toBeInstanceOf(SignInError);
    const other = new TypeError("x");
    expect(signInFailure(other)).toBe(other);
  });
});
