#!/usr/bin/env node
// The `xensim` executable npm links at install time. It only loads the compiled command
// (dist/main.js): npm links workspace bins before `prepare` has built dist/, so the bin itself must
// be a committed file.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    `xensim: ${fileURLToPath(main)} is missing: the TypeScript is not built yet.\n` +
      "Run `npm run build` (or `npx tsc -b`) at the top of the checkout, then try again.\n",
  );
  process.exit(1);
}
await import(main.href);
