// Crash corpus files: one input per file, named by its content hash, in the target's corpusDir;
// the regression test runs every one of them through its target again.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FuzzTarget } from "./target.js";

/** Saves `input` under `<repoRoot>/<corpusDir>/<sha256 prefix>.bin`; returns the path. */
export function saveCrasher(repoRoot: string, target: FuzzTarget, input: Uint8Array): string {
  const dir = join(repoRoot, target.corpusDir);
  mkdirSync(dir, { recursive: true });
  const name = `${createHash("sha256").update(input).digest("hex").slice(0, 16)}.bin`;
  const path = join(dir, name);
  writeFileSync(path, input);
  return path;
}

/** The saved regression inputs of a target (none if its corpus directory does not exist). */
export function loadCorpus(repoRoot: string, target: FuzzTarget): { name: string; input: Uint8Array }[] {
  const dir = join(repoRoot, target.corpusDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".bin"))
    .sort()
    .map((name) => ({ name, input: new Uint8Array(readFileSync(join(dir, name))) }));
}
