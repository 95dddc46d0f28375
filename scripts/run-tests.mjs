#!/usr/bin/env node
// Runs every compiled test file with node's test runner.
//   node scripts/run-tests.mjs            all tests (unit + scenarios in test/)
//   node scripts/run-tests.mjs --unit     only tests beside the code (packages/, services/)
//   node scripts/run-tests.mjs FILTER...  only files whose path contains one of FILTER
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const filters = args.filter((a) => !a.startsWith("--"));
const roots = unitOnly ? ["packages", "services"] : ["packages", "services", "bench", "test"];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === "node_modules") continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.js") && p.includes(`dist`)) out.push(p);
  }
}
const files = [];
for (const r of roots) {
  if (r === "test" || r === "bench") walk(join(r, "dist"), files);
  else for (const pkg of readdirSync(r)) walk(join(r, pkg, "dist"), files);
}
const selected = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (selected.length === 0) {
  console.error("run-tests: no test files found (did tsc -b run?)");
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  ["--test", "--test-reporter=spec", "--test-concurrency=2", "--test-timeout=600000", ...selected],
  { stdio: "inherit", env: { ...process.env, XENSIM_TEST: "1" } },
);
process.exit(res.status ?? 1);
