#!/usr/bin/env node
// Generates TypeScript types for @grpc/grpc-js from proto/**/*.proto into proto/src/gen.
//   node scripts/gen-proto.mjs           regenerate
//   node scripts/gen-proto.mjs --check   fail if the committed code is stale
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const protoDir = join(root, "proto");
const genDir = join(protoDir, "src", "gen");
const check = process.argv.includes("--check");

function walk(dir, pred, out = []) {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (n === "node_modules" || n === "src" || n === "dist") continue;
    if (statSync(p).isDirectory()) walk(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
}
const protos = walk(protoDir, (p) => p.endsWith(".proto"))
  .map((p) => relative(protoDir, p))
  .sort();

function generate(outDir) {
  const bin = join(root, "node_modules", ".bin", "proto-loader-gen-types");
  // Options must match LOADER_OPTIONS in proto/src/index.ts.
  const args = [
    "--grpcLib=@grpc/grpc-js",
    "--longs=String",
    "--enums=String",
    "--defaults",
    "--oneofs",
    `--includeDirs=${protoDir}`,
    `--outDir=${outDir}`,
    ...protos,
  ];
  const r = spawnSync(bin, args, { cwd: protoDir, encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    process.exit(1);
  }
  // NodeNext resolution wants explicit extensions on relative imports.
  for (const f of walk2(outDir)) {
    if (!f.endsWith(".ts")) continue;
    const src = readFileSync(f, "utf8");
    const fixed = src
      .replace(/(from\s+'\.{1,2}\/[^']*?)(?<!\.js)';/g, "$1.js';")
      // The generator names the absolute path of each .proto; keep the output independent of the checkout.
      .replaceAll(`// Original file: ${protoDir}/`, "// Original file: proto/");
    if (fixed !== src) writeFileSync(f, fixed);
  }
}

function files(dir) {
  return walk2(dir)
    .map((p) => relative(dir, p))
    .sort();
}
function walk2(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk2(p, out);
    else out.push(p);
  }
  return out;
}

if (!check) {
  rmSync(genDir, { recursive: true, force: true });
  generate(genDir);
  console.log(`gen-proto: ${protos.length} protos -> ${relative(root, genDir)}`);
} else {
  const tmp = mkdtempSync(join(tmpdir(), "xensim-proto-"));
  try {
    generate(tmp);
    const a = files(genDir);
    const b = files(tmp);
    const stale = [];
    for (const f of new Set([...a, ...b])) {
      const x = existsSync(join(genDir, f)) ? readFileSync(join(genDir, f), "utf8") : null;
      const y = existsSync(join(tmp, f)) ? readFileSync(join(tmp, f), "utf8") : null;
      if (x !== y) stale.push(f);
    }
    if (stale.length) {
      console.error(
        `gen-proto: generated code is stale (run: node scripts/gen-proto.mjs): ${stale.join(", ")}`,
      );
      process.exit(1);
    }
    console.log(`gen-proto: ${protos.length} protos, generated code up to date`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
