import { randomUUID } from "node:crypto";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import { startAzurite, type RunningAzurite } from "./azurite.js";
import { createSigningKey, type SigningKey } from "./simulator/jwt.js";
import { LOCAL_WORKSPACE_ID } from "./simulator/logAnalytics.js";
import { AzureSimulator } from "./simulator/server.js";
import type { LocalTls } from "./tls.js";

let processSigningKey: Promise<SigningKey> | undefined;

/** grantguard's own managed identity in the demo tenant (tokens are issued for it by default). */
export const GRANTGUARD_IDENTITY_ID = "6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40";

/** The Key Vault key grantguard signs its audit digests with (created in the local vault at start). */
export const AUDIT_KEY_NAME = "grantguard-audit";

/** The client id of grantguard's API app registration in the local tenant: the audience of its access tokens. */
export const GRANTGUARD_API_CLIENT_ID = "9b2f6c1e-4a7d-4e58-8c3b-1d0e5f7a2b64";

/** The local Azure: Azurite and the simulator, and the settings that point grantguard at them. */
export interface LocalAzure {
  readonly simulator: AzureSimulator;
  readonly azurite: RunningAzurite;
  /** Environment settings for grantguard (endpoints, the managed-identity endpoint, the Entra ID that issues callers' tokens). */
  readonly settings: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export interface LocalAzureOptions {
  readonly snapshot: TenantSnapshot;
  readonly tls: LocalTls;
  readonly pageSize?: number;
}

/** Starts Azurite and the simulator on free loopback ports. The caller must already trust `tls`. */
export async function startLocalAzure(options: LocalAzureOptions): Promise<LocalAzure> {
  const identityHeader = randomUUID();
  // One Entra signing key per process, as one tenant has: a managed-identity token the Azure SDK
  // caches process-wide (MSAL's cache is static) stays valid for every local Azure this process starts.
  const signingKey = await (processSigningKey ??= createSigningKey());
  const simulator = new AzureSimulator({ snapshot: options.snapshot, tls: options.tls, signingKey, identityHeader, defaultIdentityId: GRANTGUARD_IDENTITY_ID, pageSize: options.pageSize });
  // The audit trail's signing key, made as an administrator deploying grantguard would; grantguard's
  // identity may read its public half and sign with it (Key Vault Crypto User), never export it.
  simulator.keyVault.createKey(AUDIT_KEY_NAME);
  simulator.keyVault.grant(GRANTGUARD_IDENTITY_ID, ["get", "sign", "verify"]);
  const [azurite] = await Promise.all([startAzurite(options.tls), simulator.start()]);
  const settings = {
    GRANTGUARD_ARM_ENDPOINT: simulator.url,
    GRANTGUARD_GRAPH_ENDPOINT: simulator.url,
    GRANTGUARD_TABLE_ENDPOINT: azurite.tableEndpoint,
    GRANTGUARD_QUEUE_ENDPOINT: azurite.queueEndpoint,
    // The sweep's queue triggers connect by identity, as in Azure: {connection}__queueServiceUri.
    GRANTGUARD_STORAGE__queueServiceUri: azurite.queueEndpoint,
    GRANTGUARD_BLOB_ENDPOINT: azurite.blobEndpoint,
    GRANTGUARD_KEY_VAULT_URL: simulator.url,
    GRANTGUARD_AUDIT_KEY: AUDIT_KEY_NAME,
    GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: LOCAL_WORKSPACE_ID,
    GRANTGUARD_LOG_ANALYTICS_ENDPOINT: `${simulator.url}/v1`,
    IDENTITY_ENDPOINT: simulator.identityEndpoint,
    IDENTITY_HEADER: identityHeader,
    // The simulator is the tenant's Entra ID: the restore endpoint validates callers' tokens against it.
    GRANTGUARD_AUTH_AUTHORITY: simulator.entra.authority,
    GRANTGUARD_AUTH_TENANT_ID: options.snapshot.tenantId,
    GRANTGUARD_AUTH_AUDIENCE: GRANTGUARD_API_CLIENT_ID,
  };
  return {
    simulator,
    azurite,
    settings,
    async stop() {
      await Promise.all([simulator.stop(), azurite.stop()]);
    },
  };
}
