#!/usr/bin/env node
// Dependency rules of DESIGN.md, checked on the TypeScript sources:
//  - protocol packages (package.json "xensim": { "protocol": true }) import no node:* / Node builtins,
//    no NATS, no gRPC, and only other protocol packages (tests beside the code are exempt);
//  - nothing imports a service (a workspace under services/);
//  - no deep imports into another workspace ("@xensim/x/src/..." or a relative path leaving the package);
//  - every @xensim/* import is declared in the importer's package.json dependencies;
//  - no import cycles, between workspaces or between files of one workspace.
// And the rules that keep issue 16's clean-up from coming back (tests beside the code and
// src/testing are exempt where noted):
//  - NATS subjects are spelled only in @xensim/subjects (DESIGN: "named in one place"): a string
//    literal with one of our subject prefixes anywhere else fails (tests may spell wire subjects out
//    as golden values);
//  - a service exports nothing: no src/index.ts, and its package.json exports only ./main (and
//    ./package.json), no main/types — nothing may import a service, so nothing to export;
//  - libxl's xenstore layout lives in @xensim/libxl: no other package imports a backend driver
//    (@xensim/blkback, @xensim/displback) for it — only the services that run them;
//  - a protocol package's tests start no service (no services/… entry point in them): scenarios
//    with services belong in test/;
//  - what was copied and folded into one home stays there (ONE_HOME: mulberry32, EngineHub, the
//    services' start-up retry, the libxl skeleton's STORE_GFN, a port → handler map), tests included;
//  - an event receiver dispatches by port through @xensim/xenbus's PortDispatcher: a file that
//    calls .waitForEvents( (or scanPending( outside src/testing) imports PortDispatcher, except in
//    the packages that implement the receiving (RECEIVER_IMPLEMENTERS);
//  - no source file over MAX_LINES lines (tests exempt): past that a file holds more than one seam
//    (the largest single-purpose cores — the grant table, the event channels, the display drivers —
//    are 850-950 lines); ALLOWED_LARGE names the files being split, each with its reason.
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
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}
function importsOf(file) {
  const src = stripComments(readFileSync(file, "utf8"));
  const out = [];
  for (const m of src.matchAll(importRe)) out.push(m[1] ?? m[2]);
  return out;
}

const errors = [];

// Subject prefixes of @xensim/subjects (a literal starting with one of these is a subject).
const SUBJECT_LITERAL =
  /["'`](?:xensim\.(?:fault|chaos|metrics|trace|link)\.|hypervisor\.domain\.|guest\.(?:\*|\d|\$\{)|xenstore\.watch\.|link\.(?:\*|>|\$\{))/;
const SUBJECTS_PACKAGE = "@xensim/subjects";
/** Workspaces that may import a backend driver package: the services running it, and its own tests' peers. */
const BACKEND_DRIVERS = new Set(["@xensim/blkback", "@xensim/displback"]);
const BACKEND_DRIVER_IMPORTERS = new Set([
  "@xensim/svc-blkback",
  "@xensim/svc-displback",
  // blkfront's interop tests run the real blkback driver beside it; displback's the real displfront
  "@xensim/blkfront",
  "@xensim/displfront",
]);
/** A definition that has one home: [pattern, the workspace it lives in, what it is]. */
const ONE_HOME = [
  [/0x6d2b_?79f5/i, "@xensim/random", "the mulberry32 PRNG"],
  [/\bclass EngineHub\b/, "@xensim/xenstore-client", "EngineHub (in-memory xenstore for unit tests)"],
  [/\bfunction retry\s*</, "@xensim/runtime", "the services' start-up retry()"],
  [/\bconst STORE_GFN\s*=/, "@xensim/libxl", "STORE_GFN"],
  [/new Map<number,\s*\(\)\s*=>\s*void>/, "@xensim/xenbus", "a port → handler map (PortDispatcher)"],
];
/** Where events are received from the shared_info page itself, not dispatched to handlers. */
const RECEIVER_IMPLEMENTERS = new Set(["@xensim/evtchn", "@xensim/xenctrl", "@xensim/xenbus"]);
const MAX_LINES = 1000;
/** File → why it may stay over MAX_LINES for now (empty: every source file is within it). */
const ALLOWED_LARGE = new Map();
const pkgEdges = new Map(workspaces.map((w) => [w.name, new Set()]));
for (const w of workspaces) {
  const srcDir = join(root, w.dir, "src");
  const files = walk(srcDir, []);
  const fileEdges = new Map();
  if (w.service && existsSync(join(srcDir, "index.ts")))
    errors.push(`${w.dir}/src/index.ts: a service exports nothing (nothing may import a service)`);
  if (w.service) {
    const pkg = JSON.parse(readFileSync(join(root, w.dir, "package.json"), "utf8"));
    const exported = Object.keys(pkg.exports ?? {}).filter((k) => k !== "./main" && k !== "./package.json");
    if (pkg.main !== undefined || pkg.types !== undefined || exported.length > 0)
      errors.push(
        `${w.dir}/package.json: a service exports only ./main (found ${["main", "types", ...exported].filter((k) => k in pkg || exported.includes(k)).join(", ")})`,
      );
  }
  for (const f of files) {
    const rel = relative(root, f);
    const isTest = /\.test\.ts$/.test(f) || f.includes(`${join("src", "testing")}`);
    const edges = [];
    const code = stripComments(readFileSync(f, "utf8"));
    if (!isTest && w.name !== SUBJECTS_PACKAGE && SUBJECT_LITERAL.test(code))
      errors.push(
        `${rel}: spells a NATS subject (${SUBJECT_LITERAL.exec(code)[0].slice(1)}…): take it from ${SUBJECTS_PACKAGE}`,
      );
    for (const [re, home, what] of ONE_HOME)
      if (w.name !== home && re.test(code)) errors.push(`${rel}: defines ${what} again: use ${home}'s`);
    const receives =
      /\.waitForEvents\(/.test(code) || (!f.includes(join("src", "testing")) && /\bscanPending\(/.test(code));
    if (
      receives &&
      !/\.test\.ts$/.test(f) &&
      !RECEIVER_IMPLEMENTERS.has(w.name) &&
      !/\bPortDispatcher\b/.test(code) &&
      (w.dir.startsWith("packages/") || w.dir.startsWith("services/"))
    )
      errors.push(
        `${rel}: receives events without @xensim/xenbus's PortDispatcher (port → handler in one place)`,
      );
    if (w.protocol && isTest && /["'`/]services["'`/]/.test(code) && /main\.js/.test(code))
      errors.push(`${rel}: a protocol package's test starts a service (move the scenario to test/)`);
    if (!isTest && !ALLOWED_LARGE.has(rel)) {
      const lines = code.split("\n").length;
      if (lines > MAX_LINES)
        errors.push(`${rel}: ${lines} lines (over ${MAX_LINES}): split it along its seams`);
    }
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
        if (BACKEND_DRIVERS.has(pkgName) && pkgName !== w.name && !BACKEND_DRIVER_IMPORTERS.has(w.name))
          errors.push(`${rel}: imports the backend driver '${pkgName}' (libxl's layout is in @xensim/libxl)`);
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
