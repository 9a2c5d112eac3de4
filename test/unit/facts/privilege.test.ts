import { describe, expect, it } from "vitest";
import { allowsOperation, rolePrivilege } from "../../../shared/facts/privilege.js";

const block = (actions: string[], notActions: string[] = [], dataActions: string[] = []) => ({ actions, notActions, dataActions, notDataActions: [] });
const CONTRIBUTOR = block(["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"]);

describe("rolePrivilege", () => {
  it("finds Owner privileged for delegation and any-provider writes", () => {
    const p = rolePrivilege([block(["*"])]);
    expect(p).toMatchObject({ privileged: true, canWriteRoleAssignments: true, canWriteRoleDefinitions: true, canElevateAccess: true, canWriteAnyResource: true, hasWildcardActions: true });
  });

  it("lets Contributor's notActions remove role-assignment writes, case-insensitively, but keeps it privileged", () => {
    const p = rolePrivilege([CONTRIBUTOR]);
    expect(p).toMatchObject({ privileged: true, canWriteRoleAssignments: false, canWriteRoleDefinitions: false, canElevateAccess: false, canWriteAnyResource: true });
    expect(p.privilegedActions).toEqual(["*/write"]);
  });

  it("finds Reader not privileged", () => {
    expect(rolePrivilege([block(["*/read"])]).privileged).toBe(false);
  });

  it("finds User Access Administrator privileged through Microsoft.Authorization/*", () => {
    const p = rolePrivilege([block(["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"])]);
    expect(p).toMatchObject({ privileged: true, canWriteRoleAssignments: true, canWriteRoleDefinitions: true, canWriteAnyResource: false });
  });

  it("judges a custom role by its actions, whatever its name", () => {
    const harmlessName = rolePrivilege([block(["Microsoft.Authorization/roleAssignments/write"])]);
    expect(harmlessName).toMatchObject({ privileged: true, canWriteRoleAssignments: true, canWriteAnyResource: false });
    const removedAgain = rolePrivilege([block(["Microsoft.Authorization/roleAssignments/*"], ["microsoft.authorization/roleassignments/WRITE"])]);
    expect(removedAgain.privileged).toBe(false);
  });

  it("treats */write as control over every provider unless notActions take it back", () => {
    expect(rolePrivilege([block(["*/write"])]).canWriteAnyResource).toBe(true);
    expect(rolePrivilege([block(["*"], ["*/write"])]).canWriteAnyResource).toBe(false);
    expect(rolePrivilege([block(["Microsoft.Compute/*"])]).canWriteAnyResource).toBe(false);
  });

  it("does not let one permission block's notActions cancel another block's actions", () => {
    const p = rolePrivilege([block(["*/read"], ["Microsoft.Authorization/*"]), block(["Microsoft.Authorization/roleAssignments/write"])]);
    expect(p.canWriteRoleAssignments).toBe(true);
  });

  it("spots data-plane wildcards", () => {
    expect(rolePrivilege([block([], [], ["Microsoft.Storage/*"])]).hasWildcardDataActions).toBe(true);
    expect(rolePrivilege([block([], [], ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"])]).hasWildcardDataActions).toBe(false);
  });
});

describe("allowsOperation", () => {
  it("matches a wildcard in the middle of an action", () => {
    expect(allowsOperation([block(["Microsoft.Authorization/*/write"])], "Microsoft.Authorization/roleAssignments/write")).toBe(true);
    expect(allowsOperation([block(["Microsoft.Authorization/*/write"])], "Microsoft.Authorization/roleAssignments/read")).toBe(false);
  });
  it("does not treat dots as wildcards", () => {
    expect(allowsOperation([block(["Microsoft.Web/sites/write"])], "MicrosoftXWeb/sites/write")).toBe(false);
  });
});
