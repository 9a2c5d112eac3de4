// The layers of grantguard, checked by `npm run lint` (dependency-cruiser). The domain
// (model → facts → policy → findings → response → audit → usecases) points one way and never reaches the
// adapters (shared/azure), the edges (cli, http, runtime, functions) or the local Azure; adapters
// implement interfaces the domain declares. No import cycles anywhere.
const DOMAIN = "^shared/(model|facts|policy|findings|response|audit|usecases)/";
const allowedBelow = (folder, allowed) => ({
  name: `${folder}-imports-only-below`,
  comment: `shared/${folder} may import only ${allowed.join(", ")} (and itself)`,
  severity: "error",
  from: { path: `^shared/${folder}/` },
  to: { path: "^shared/", pathNot: [`^shared/${folder}/`, ...allowed.map((a) => (a.endsWith(".ts") ? `^shared/${a.replace(".", "\\.")}$` : `^shared/${a}/`))] },
});

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "an import cycle", from: {}, to: { circular: true } },
    { name: "domain-not-adapters", severity: "error", comment: "the domain declares interfaces; shared/azure implements them", from: { path: DOMAIN }, to: { path: "^shared/(azure|cli|http)/|^shared/runtime\\.ts$" } },
    { name: "domain-not-sdks", severity: "error", comment: "the domain knows Azure only through its own interfaces; SDK clients are built in shared/azure/compose.ts", from: { path: DOMAIN }, to: { path: "node_modules/(@azure/(arm-|data-tables|storage-|keyvault-|monitor-query|identity|core-)|@azure-rest/)" } },
    { name: "product-not-local-or-tests", severity: "error", comment: "production code never knows the local Azure or the tests", from: { path: "^(shared|functions)/" }, to: { path: "^(local|test|bench)/" } },
    allowedBelow("model", ["errors.ts"]),
    allowedBelow("facts", ["model", "errors.ts"]),
    allowedBelow("policy", ["model", "facts", "errors.ts"]),
    allowedBelow("findings", ["model", "facts", "policy", "errors.ts"]),
    allowedBelow("response", ["model", "facts", "policy", "findings", "config.ts", "errors.ts"]),
    // The audit trail records what the findings and the response layers change; it knows no adapter.
    allowedBelow("audit", ["model", "findings", "response", "errors.ts"]),
    allowedBelow("usecases", ["model", "facts", "policy", "findings", "response", "audit", "config.ts", "errors.ts"]),
    { name: "config-low", severity: "error", comment: "settings depend on nothing but errors and model", from: { path: "^shared/config\\.ts$" }, to: { path: "^shared/", pathNot: "^shared/(errors\\.ts|model/)" } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
