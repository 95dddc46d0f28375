// Lint rules for the whole tree (formatting is prettier's job: `npm run format`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "proto/src/gen/**", "bench/results/**", "bench/out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "warn",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "no-empty": ["error", { allowEmptyCatch: true }],
      "no-control-regex": "off",
    },
  },
  {
    // Plain JS scripts run on Node; TypeScript checks undefined names in .ts files.
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    rules: { "no-undef": "off" },
  },
);
