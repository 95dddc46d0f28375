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
    // Names that say what they hold (issue 16): no options field called `o`, no reducer state `st`,
    // handshake `hs`, round-robin `rr` or deps `d` on a class or as a parameter property, and none
    // of o/st/hs/rr as a member of a type (`d` stays allowed there: the link queue's a/b/c/d words).
    files: ["**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "PropertyDefinition[key.name=/^(o|d|st|hs|rr)$/]",
          message: "Name the field for what it holds (options, state, handshakeState, …), not o/d/st/hs/rr.",
        },
        {
          selector: "TSParameterProperty > Identifier[name=/^(o|d|st|hs|rr)$/]",
          message: "Name the parameter property for what it holds (options, deps, …), not o/d/st/hs/rr.",
        },
        {
          selector:
            "FunctionDeclaration > Identifier.params[name=/^(o|st|hs|rr)$/], FunctionExpression > Identifier.params[name=/^(o|st|hs|rr)$/], :function > AssignmentPattern.params > Identifier.left[name=/^(o|st|hs|rr)$/]",
          message: "Name the parameter for what it holds (options, state, …), not o/st/hs/rr.",
        },
        {
          selector: "TSPropertySignature[key.name=/^(o|st|hs|rr)$/]",
          message: "Name the member for what it holds (options, state, …), not o/st/hs/rr.",
        },
      ],
    },
  },
  {
    // Plain JS scripts run on Node; TypeScript checks undefined names in .ts files.
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    rules: { "no-undef": "off" },
  },
);
