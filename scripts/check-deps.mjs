#!/usr/bin/env node
// Dependency rules of DESIGN.md, checked on the TypeScript sources:
//  - protocol packages (package.json "xensim": { "protocol": true }) import no node:* / Node builtins,
//    no NATS, no gRPC, and only other protocol packages (tests beside the code are exempt);
//  - nothing imports a service (a workspace under services/);
//  - no deep imports into another workspace ("@xensim/x/src/..." or a relative path leaving the package);
//  - every @xensim/* import is declared in the importer's package.json dependencies;
//  - no import cycles, between workspaces or between files of one workspace.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const builtins = new Set(builtinModules);
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

const workspaces = [];
for (const pattern of rootPkg.workspaces) {
  const dirs = pattern.endsWith("/*")
    ? readdirSync(join(root, pattern.slice(0, -2))).map((d) => join(pattern.slice(0, -2), d))
    : [pattern];
  for (const d of dirs) {
    const pj = join(root, d, "package.json");
    if (!existsSync(pj)) continue;
    const pkg = JSON.parse(readFileSync(pj, "utf8"));
    workspaces.push({
      dir: d,
      name: pkg.name,
      deps: new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })),
      protocol: pkg.xensim?.protocol === true,
      service: d.startsWith("services/"),
    });
  }
}
const byName = new Map(workspaces.map((w) => [w.name, w]));

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (n === "node_modules" || n === "dist" || n === "gen") continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(m|c)?ts$/.test(n) && !n.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const importRe =
  /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
function importsOf(file) {
  const src = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const out = [];
  for (const m of src.matchAll(importRe)) out.push(m[1] ?? m[2]);
  return out;
}

const errors = [];
const pkgEdges = new Map(workspaces.map((w) => [w.name, new Set()]));
for (const w of workspaces) {
  const srcDir = join(root, w.dir, "src");
  const files = walk(srcDir, []);
  const fileEdges = new Map();
  for (const f of files) {
    const rel = relative(root, f);
    const isTest = /\.test\.ts$/.test(f) || f.includes(`${join("src", "testing")}`);
    const edges = [];
    for (const spec of importsOf(f)) {
      const bare = spec.startsWith("node:") ? spec.slice(5) : spec;
      if (spec.startsWith(".")) {
        const target = resolve(dirname(f), spec).replace(/\.js$/, ".ts");
        if (!target.startsWith(srcDir)) errors.push(`${rel}: relative import '${spec}' leaves its package`);
        else edges.push(target);
        continue;
      }
      const isNode = spec.startsWith("node:") || builtins.has(bare.split("/")[0]);
      const pkgName = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      const target = byName.get(pkgName);
      if (target) {
        if (spec !== pkgName) errors.push(`${rel}: deep import '${spec}' (use the package's public surface)`);
        if (target.service) errors.push(`${rel}: imports service '${pkgName}' (nothing imports a service)`);
        if (!w.deps.has(pkgName) && pkgName !== w.name)
          errors.push(`${rel}: imports '${pkgName}' not declared in ${w.dir}/package.json`);
        if (pkgName !== w.name) pkgEdges.get(w.name).add(pkgName);
        if (w.protocol && !isTest && !target.protocol)
          errors.push(`${rel}: protocol package imports non-protocol package '${pkgName}'`);
      }
      if (w.protocol && !isTest) {
        if (isNode) errors.push(`${rel}: protocol package imports Node builtin '${spec}'`);
        if (/^@nats-io\//.test(spec) || /^nats$/.test(spec))
          errors.push(`${rel}: protocol package imports NATS '${spec}'`);
        if (/^@grpc\//.test(spec) || /grpc/.test(spec))
          errors.push(`${rel}: protocol package imports gRPC '${spec}'`);
      }
    }
    fileEdges.set(f, edges);
  }
  for (const cyc of findCycles(fileEdges))
    errors.push(`import cycle in ${w.dir}: ${cyc.map((f) => relative(root, f)).join(" -> ")}`);
}
for (const cyc of findCycles(pkgEdges)) errors.push(`workspace import cycle: ${cyc.join(" -> ")}`);

function findCycles(graph) {
  const state = new Map();
  const stack = [];
  const cycles = [];
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (!graph.has(m)) continue;
      if (state.get(m) === 1) cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.get(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of graph.keys()) if (!state.get(n)) visit(n);
  return cycles;
}

if (errors.length) {
  for (const e of errors) console.error(`check-deps: ${e}`);
  process.exit(1);
}
console.log(`check-deps: ${workspaces.length} workspaces, rules hold`);
