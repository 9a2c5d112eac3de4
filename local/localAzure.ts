import { randomUUID } from "node:crypto";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import { startAzurite, type RunningAzurite } from "./azurite.js";
import { AzureSimulator } from "./simulator/server.js";
import type { LocalTls } from "./tls.js";

/** grantguard's own managed identity in the demo tenant (tokens are issued for it by default). */
export const GRANTGUARD_IDENTITY_ID = "6c0f4b8e-2d1a-4f3b-9e7c-5a8d1b2c3e40";

/** The local Azure: Azurite and the simulator, and the settings that point grantguard at them. */
export interface LocalAzure {
  readonly simulator: AzureSimulator;
  readonly azurite: RunningAzurite;
  /** Environment settings for grantguard (endpoints and the managed-identity endpoint). */
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
  const simulator = new AzureSimulator({ snapshot: options.snapshot, tls: options.tls, identityHeader, defaultIdentityId: GRANTGUARD_IDENTITY_ID, pageSize: options.pageSize });
  const [azurite] = await Promise.all([startAzurite(options.tls), simulator.start()]);
  const settings = {
    GRANTGUARD_ARM_ENDPOINT: simulator.url,
    GRANTGUARD_GRAPH_ENDPOINT: simulator.url,
    GRANTGUARD_TABLE_ENDPOINT: azurite.tableEndpoint,
    GRANTGUARD_QUEUE_ENDPOINT: azurite.queueEndpoint,
    IDENTITY_ENDPOINT: simulator.identityEndpoint,
    IDENTITY_HEADER: identityHeader,
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
