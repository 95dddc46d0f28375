#!/usr/bin/env node
// Assembles the build context of deploy/Dockerfile from a built checkout (`npm ci && npm run build`):
// the workspaces' package.json and dist/ (proto also its .proto files), the production part of
// node_modules (`npm ls --omit=dev`), the workspace links, and deploy/*.mjs. No sources, no dev
// tools, no .git: the context is ~40 MB instead of the checkout's ~170 MB, and builds take seconds.
//
//   node deploy/context.mjs [DIR]     (default: a new temporary directory) — prints DIR
//   docker build -f deploy/Dockerfile -t xensim:local --build-arg BASE_IMAGE=… DIR
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Workspace directories (relative to the root) named by the root package.json's globs. */
function workspaces() {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const out = [];
  for (const w of pkg.workspaces ?? []) {
    if (w.endsWith("/*")) {
      const base = w.slice(0, -2);
      for (const d of readdirSync(join(root, base), { withFileTypes: true }))
        if (d.isDirectory() && existsSync(join(root, base, d.name, "package.json")))
          out.push(`${base}/${d.name}`);
    } else if (existsSync(join(root, w, "package.json"))) out.push(w);
  }
  return out;
}

/** Only what runs: no source maps, declarations or tests. */
const keepDist = (src) => !/\.(map|d\.ts|tsbuildinfo)$/.test(src) && !/\.test\.js$/.test(src);

export function assembleContext(out = mkdtempSync(join(tmpdir(), "xensim-ctx-"))) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(join(root, "package.json"), join(out, "package.json"));

  const skipWorkspaces = new Set(["test"]); // scenarios, not part of a deployment
  const shipped = new Set();
  for (const w of workspaces()) {
    if (skipWorkspaces.has(w)) continue;
    const dist = join(root, w, "dist");
    if (!existsSync(dist)) {
      // A workspace nobody built (yet): left out; whatever needs it fails loudly at run time.
      console.error(`context: ${w}/dist is missing (run \`npm run build\`); left out`);
      continue;
    }
    mkdirSync(join(out, w), { recursive: true });
    cpSync(join(root, w, "package.json"), join(out, w, "package.json"));
    cpSync(dist, join(out, w, "dist"), { recursive: true, filter: keepDist });
    if (w === "proto") cpSync(join(root, w, "xensim"), join(out, w, "xensim"), { recursive: true });
    shipped.add(w);
  }

  // Production dependencies, as npm resolved them (top level and nested), without dev tools.
  const listed = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "ignore"],
  })
    .split("\n")
    .map((l) => relative(root, l.trim()))
    .filter((p) => p.startsWith("node_modules/"));
  for (const p of [...new Set(listed)].sort()) {
    const src = join(root, p);
    const dst = join(out, p);
    if (existsSync(dst)) continue;
    mkdirSync(dirname(dst), { recursive: true });
    let link;
    try {
      link = readlinkSync(src);
    } catch {
      link = undefined;
    }
    if (link !== undefined) {
      // A workspace link (node_modules/@xensim/x -> ../../packages/x): keep it if we ship the target.
      const target = relative(root, resolve(dirname(src), link));
      if (shipped.has(target)) symlinkSync(link, dst);
      continue;
    }
    // Nested node_modules are listed (and copied) on their own: only what production needs.
    cpSync(src, dst, {
      recursive: true,
      filter: (s) => !relative(src, s).split(/[/\\]/).includes("node_modules"),
    });
  }

  mkdirSync(join(out, "deploy"), { recursive: true });
  for (const f of readdirSync(join(root, "deploy")))
    if (f.endsWith(".mjs") || f === "Dockerfile") cpSync(join(root, "deploy", f), join(out, "deploy", f));
  // The health check: a static C probe (no node process per check), built with this machine's gcc.
  buildHealthProbe(join(out, "deploy", "healthprobe"));
  return out;
}

/** `gcc -static` of deploy/healthprobe.c into `dst` (the image needs no compiler, no libc). */
export function buildHealthProbe(dst) {
  execFileSync("gcc", ["-static", "-Os", "-s", "-o", dst, join(root, "deploy", "healthprobe.c")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(assembleContext(process.argv[2] ? resolve(process.argv[2]) : undefined));
}
