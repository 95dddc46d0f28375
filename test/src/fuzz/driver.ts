// A small local fuzz driver until these targets join the fuzz registry (`xensim fuzz`): seeded,
// reproducible byte-level mutations of each target's seeds (flips, interesting values in either
// byte order, inserts, deletes, duplicated and spliced chunks, truncation, random bytes). A crasher is
// written to the target's corpus directory as a regression case, named by its hash.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FuzzTarget } from "./targets.js";

const INTERESTING = [
  0, 1, 2, 7, 8, 11, 12, 255, 256, 511, 512, 4095, 4096, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
  0xffffffff,
];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(
  base: Uint8Array,
  seeds: readonly Uint8Array[],
  maxLength: number,
  rnd: () => number,
): Uint8Array {
  let b = base.slice();
  const int = (n: number) => Math.floor(rnd() * n);
  const steps = 1 + int(6);
  for (let s = 0; s < steps; s++) {
    const n = b.length;
    switch (int(10)) {
      case 0:
        if (n) {
          const at = int(n);
          b[at] = b[at]! ^ (1 << int(8));
        }
        break;
      case 1:
        if (n) b[int(n)] = [0, 1, 0x7f, 0x80, 0xff, int(256)][int(6)]!;
        break;
      case 2:
        if (n >= 4) {
          const v = INTERESTING[int(INTERESTING.length)]!;
          new DataView(b.buffer, b.byteOffset).setUint32(int(n - 3), v >>> 0, rnd() < 0.5);
        }
        break;
      case 3: {
        const ins = new Uint8Array(1 + int(32)).map(() => int(256));
        const at = int(n + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 4:
        if (n) {
          const at = int(n);
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1 + int(64))]);
        }
        break;
      case 5:
        if (n) {
          const from = int(n);
          const chunk = b.subarray(from, from + 1 + int(256));
          const at = int(n + 1);
          b = Uint8Array.from([...b.subarray(0, at), ...chunk, ...b.subarray(at)]);
        }
        break;
      case 6: {
        const o = seeds[int(seeds.length)]!;
        if (o.length) {
          const from = int(o.length);
          const chunk = o.subarray(from, from + 1 + int(512));
          const at = int(n + 1);
          b = Uint8Array.from([...b.subarray(0, at), ...chunk, ...b.subarray(at + chunk.length)]);
        }
        break;
      }
      case 7:
        b = b.subarray(0, int(n + 1)).slice();
        break;
      case 8:
        if (n >= 2) {
          const v = INTERESTING[int(INTERESTING.length)]!;
          new DataView(b.buffer, b.byteOffset).setUint16(int(n - 1), v & 0xffff, rnd() < 0.5);
        }
        break;
      default:
        if (rnd() < 0.05) b = new Uint8Array(int(256)).map(() => int(256));
        break;
    }
  }
  return b.length > maxLength ? b.subarray(0, maxLength) : b;
}

export interface FuzzRun {
  target: string;
  seed: number;
  runs: number;
  ms: number;
  crashes: Array<{ index: number; error: string; file?: string }>;
}

/** The saved regression cases of a target (every file of its corpus directory). */
export function corpus(root: string, t: FuzzTarget): Uint8Array[] {
  try {
    return readdirSync(join(root, t.corpusDir)).map(
      (f) => new Uint8Array(readFileSync(join(root, t.corpusDir, f))),
    );
  } catch {
    return [];
  }
}

/** Runs `runs` inputs: the seeds and saved cases first, then mutations. Never throws for a crash. */
export function fuzz(
  t: FuzzTarget,
  o: { runs: number; seed: number; root?: string; save?: boolean; maxCrashes?: number },
): FuzzRun {
  const t0 = performance.now();
  const rnd = mulberry32(o.seed);
  const base = [...t.seeds(), ...(o.root ? corpus(o.root, t) : [])];
  const crashes: FuzzRun["crashes"] = [];
  const seen = new Set<string>();
  for (let i = 0; i < o.runs; i++) {
    const input =
      i < base.length ? base[i]! : mutate(base[Math.floor(rnd() * base.length)]!, base, t.maxLength, rnd);
    try {
      t.run(input);
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      const key = error.split("\n")[0]!;
      if (seen.has(key)) continue;
      seen.add(key);
      const c: FuzzRun["crashes"][number] = { index: i, error };
      if (o.save && o.root) {
        const dir = join(o.root, t.corpusDir);
        mkdirSync(dir, { recursive: true });
        c.file = join(dir, createHash("sha256").update(input).digest("hex").slice(0, 16));
        writeFileSync(c.file, input);
      }
      crashes.push(c);
      if (crashes.length >= (o.maxCrashes ?? 10)) break;
    }
  }
  return { target: t.name, seed: o.seed, runs: o.runs, ms: Math.round(performance.now() - t0), crashes };
}
