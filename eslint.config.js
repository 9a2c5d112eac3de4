// Lint: the recommended TypeScript rules plus the house-style bans. The promise rules need type
// information, so TypeScript files are linted with the project's own tsconfig.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".scratch/**", "local/demo/tenant.json"] },
  js.configs.recommended,
  { files: ["bin/**/*.js"], languageOptions: { globals: { process: "readonly" } } },
  // The findings page runs in the browser.
  { files: ["web/**/*.js"], languageOptions: { globals: Object.fromEntries(["document", "location", "history", "sessionStorage", "crypto", "fetch", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "FormData", "btoa", "atob", "setTimeout"].map((name) => [name, "readonly"])) } },
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable" } } },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
      // A promise nobody awaits loses its failure: in a handler, the event counts as delivered.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/await-thenable": "error",
      "no-restricted-syntax": [
        "error",
        { selector: "CallExpression[callee.property.name='forEach'] > :matches(ArrowFunctionExpression, FunctionExpression)[async=true]", message: "forEach(async …) loses failures; use Promise.all or a loop." },
      ],
    },
  },
);
