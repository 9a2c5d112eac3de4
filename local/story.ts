import type { LocalEventGrid } from "./eventGrid.js";
import type { AzureSimulator } from "./simulator/server.js";

// Principals of the demo tenant (local/demo/tenant.json) the story uses.
const PRODUCTION = "/subscriptions/1b6e2c4a-8d3f-4a7b-9c1e-5f2d8a6b3c71";
const ALICE = "0a6d3f1b-7c2e-4b59-8e1d-4f6a2b3c9d71";
const BOB = "5b9d1f3a-6c8e-4d2b-a7f1-3e5c7a9b1d24";
const GUEST = "c4e8a2f6-1b3d-4a5c-9e7f-0d2b4c6e8a13";
const FUNCTION_APP_IDENTITY = "f2b4d6e8-3a5c-4e7f-9b1d-2c4e6a8f0b35";
const role = (guid: string) => `${PRODUCTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const OWNER = role("8e3af657-a8ff-443c-a75c-2fe8c4bcb635");
const CONTRIBUTOR = role("b24988ac-6180-42a0-ab88-20f7382dd24c");
const READER = role("acdd72a7-3385-48ef-bd42-f606fba81ae7");

/**
 * The scripted demo: grants made through the simulator's ARM, as Alice, each emitting its
 * Event Grid event to the dev host; every decision is printed as the function logs it.
 */
export async function playStory(simulator: AzureSimulator, grid: LocalEventGrid, say: (line: string) => void): Promise<void> {
  const needed = [ALICE, BOB, GUEST, FUNCTION_APP_IDENTITY];
  if (needed.some((id) => !simulator.state.principals.has(id))) {
    say("This tenant is not the demo tenant, so there is no scripted story: post your own events, or use --events FILE.");
    return;
  }
  const step = async (title: string, act: () => void) => {
    say(`\n▶ ${title}`);
    act();
    await grid.settled();
  };
  let guestOwner = "";
  await step("Alice grants Owner on the Production subscription to a guest from Fabrikam", () => {
    guestOwner = simulator.grant({ scope: PRODUCTION, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User" }, ALICE).id;
  });
  await step("Alice grants Reader on resource group rg-web-prod to Bob", () => {
    simulator.grant({ scope: `${PRODUCTION}/resourceGroups/rg-web-prod`, roleDefinitionId: READER, principalId: BOB, principalType: "User" }, ALICE);
  });
  await step("Alice grants Contributor on the whole Production subscription to the func-orders-prod managed identity", () => {
    simulator.grant({ scope: PRODUCTION, roleDefinitionId: CONTRIBUTOR, principalId: FUNCTION_APP_IDENTITY, principalType: "ServicePrincipal" }, ALICE);
  });
  await step("Alice removes the guest's Owner assignment again", () => {
    if (!simulator.revoke(guestOwner, ALICE)) say("  (already gone: grantguard revoked it; npx grantguard restore would bring it back)");
  });
}
