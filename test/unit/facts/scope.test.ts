import { describe, expect, it } from "vitest";
import { parseScope } from "../../../shared/facts/scope.js";

describe("parseScope", () => {
  it.each([
    ["/", "root"],
    ["/providers/Microsoft.Management/managementGroups/contoso", "managementGroup"],
    ["/subscriptions/1B6E2C4A-8d3f-4a7b-9c1e-5f2d8a6b3c71", "subscription"],
    ["/subscriptions/1b6e2c4a-8d3f-4a7b-9c1e-5f2d8a6b3c71/resourceGroups/rg-web", "resourceGroup"],
    ["/subscriptions/1b6e2c4a-8d3f-4a7b-9c1e-5f2d8a6b3c71/resourceGroups/rg-web/providers/Microsoft.Web/sites/app1", "resource"],
  ])("classifies %s as %s", (scope, level) => {
    expect(parseScope(scope).level).toBe(level);
  });

  it("names the parts of a nested resource scope, subscription ids in lower case", () => {
    expect(parseScope("/subscriptions/1B6E/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/blobServices/default")).toEqual({
      id: "/subscriptions/1B6E/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/blobServices/default",
      level: "resource",
      managementGroup: null,
      subscriptionId: "1b6e",
      resourceGroup: "rg",
      resourceType: "Microsoft.Storage/storageAccounts/blobServices",
    });
  });

  it("names the management group", () => {
    expect(parseScope("/providers/Microsoft.Management/managementGroups/corp").managementGroup).toBe("corp");
  });
});
