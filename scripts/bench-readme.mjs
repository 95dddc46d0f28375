#!/usr/bin/env node
// Renders bench/results/*.json into the tables of bench/README.md (between the BEGIN/END markers).
//   node scripts/bench-readme.mjs
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const readme = join(root, "bench", "README.md");
const results = join(root, "bench", "results");

function xenstoreTable() {
  const f = join(results, "xenstore.json");
  if (!existsSync(f))
    return "_no result yet: run `npx xensim bench xenstore --json bench/results/xenstore.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  const rows = [
    "| transport | operation | ops/s | p50 µs | p99 µs | p50 ÷ floor p50 |",
    "|---|---|---:|---:|---:|---:|",
    `| raw unix-socket ping-pong (floor) | 16-byte header + payload echo | ${r.floor.figures.ops_per_s} | ${r.floor.figures.p50_us} | ${r.floor.figures.p99_us} | 1 |`,
  ];
  for (const x of r.results)
    rows.push(
      `| ${x.transport} | ${x.op} | ${x.figures.ops_per_s} | ${x.figures.p50_us} | ${x.figures.p99_us} | ${x.vs_floor_p50} |`,
    );
  rows.push(
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}; ${r.duration_ms} ms per row, depth 1.`,
  );
  return rows.join("\n");
}

const sections = { XENSTORE: xenstoreTable };
let text = readFileSync(readme, "utf8");
for (const [name, fn] of Object.entries(sections)) {
  const re = new RegExp(`(<!-- BEGIN ${name} -->\\n)[\\s\\S]*?(<!-- END ${name} -->)`);
  text = text.replace(re, `$1${fn()}\n$2`);
}
writeFileSync(readme, text);
console.log("bench-readme: bench/README.md updated");
