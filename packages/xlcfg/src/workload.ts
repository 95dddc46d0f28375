// `xensim_workload = "rw=randrw,bs=4k,iodepth=16,size=64m,runtime=30,verify=crc32c"`: fio's option
// names and units (sizes with k/m/g binary multiples, runtime in seconds unless suffixed ms/s/m/h)
// into @xensim/workload's FioJobSpec.
import { type FioJobSpec, RW_PATTERNS, type RwPattern } from "@xensim/workload";

export interface WorkloadProblem {
  readonly offset: number;
  readonly message: string;
  readonly expected?: string;
}

const SIZE_RE = /^(\d+)([kmgt]?)(i?b)?$/i;
const MULT: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const TIME_RE = /^(\d+)(ms|s|m|h)?$/i;
const TIME_MULT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function size(v: string): number | undefined {
  const m = SIZE_RE.exec(v);
  return m ? Number(m[1]) * MULT[(m[2] ?? "").toLowerCase()]! : undefined;
}

function millis(v: string): number | undefined {
  const m = TIME_RE.exec(v);
  return m ? Number(m[1]) * TIME_MULT[(m[2] ?? "s").toLowerCase()]! : undefined;
}

const KEYS = [
  "name",
  "rw",
  "readwrite",
  "bs",
  "blocksize",
  "vdev",
  "filename",
  "seed",
  "ios",
  "time_based",
  "direct",
  "ioengine",
  "iodepth",
  "size",
  "offset",
  "runtime",
  "number_ios",
  "rwmixread",
  "verify",
  "ramp_time",
  "randseed",
] as const;

/**
 * Parses a job string as the guest runtime reads `/vm/<uuid>/xensim/workload` (same keys and
 * defaults: rw=randrw, bs=4k, iodepth=16, runtime=30s when neither runtime nor number_ios is given;
 * `vdev=` picks the disk, default the first; "idle" = no job). Every problem is reported (offsets
 * into the string).
 */
export function parseWorkload(
  s: string,
): { job: FioJobSpec | undefined; vdev?: string } | { problems: WorkloadProblem[] } {
  if (s.trim() === "" || s.trim() === "idle") return { job: undefined };
  const problems: WorkloadProblem[] = [];
  const bad = (offset: number, message: string, expected?: string) =>
    problems.push({ offset, message, ...(expected ? { expected } : {}) });
  const seen = new Map<string, { value: string; offset: number }>();
  let off = 0;
  for (const part of s.split(",")) {
    const at = off;
    off += part.length + 1;
    if (part.trim() === "") {
      bad(at, "empty item", "key=value");
      continue;
    }
    const eq = part.indexOf("=");
    const k = (eq < 0 ? part : part.slice(0, eq)).trim();
    const v = eq < 0 ? "" : part.slice(eq + 1).trim();
    const ALIAS: Record<string, string> = {
      readwrite: "rw",
      blocksize: "bs",
      filename: "vdev",
      seed: "randseed",
      ios: "number_ios",
    };
    const key = ALIAS[k] ?? k;
    if (k === "time_based" || k === "direct" || k === "ioengine") continue; // fio habits, meaningless here
    if (!(KEYS as readonly string[]).includes(k)) bad(at, `unknown workload key '${k}'`, KEYS.join(", "));
    else if (eq < 0) bad(at, `'${k}' needs a value`, `${k}=<value>`);
    else if (seen.has(key)) bad(at, `'${k}' given twice`);
    else seen.set(key, { value: v, offset: at + eq + 1 });
  }
  const job: { -readonly [K in keyof FioJobSpec]: FioJobSpec[K] } = { rw: "randrw", bs: 4096, iodepth: 16 };
  const num = (k: string, parse: (v: string) => number | undefined, expected: string, min = 0) => {
    const e = seen.get(k);
    if (!e) return undefined;
    const n = parse(e.value);
    if (n === undefined || !Number.isSafeInteger(n) || n < min) {
      bad(e.offset, `${k} '${e.value}' is not valid`, expected);
      return undefined;
    }
    return n;
  };
  const int = (v: string) => (/^\d+$/.test(v) ? Number(v) : undefined);
  const rw = seen.get("rw");
  if (rw === undefined) {
    // default randrw
  } else if (!(RW_PATTERNS as readonly string[]).includes(rw.value))
    bad(rw.offset, `rw '${rw.value}' is not valid`, RW_PATTERNS.join(", "));
  else job.rw = rw.value as RwPattern;
  const bs = num("bs", size, "a size that is a multiple of 512 (4k, 64k, …)", 512);
  if (bs !== undefined) {
    if (bs % 512 !== 0) bad(seen.get("bs")!.offset, `bs ${bs} is not a multiple of 512`, "4k, 8k, 64k, …");
    else job.bs = bs;
  }
  const iodepth = num("iodepth", int, "an integer in 1..65536", 1);
  if (iodepth !== undefined) {
    if (iodepth > 65536) bad(seen.get("iodepth")!.offset, `iodepth ${iodepth} is too large`, "1..65536");
    else job.iodepth = iodepth;
  }
  const sz = num("size", size, "a size (64m, 1g, …)", 512);
  if (sz !== undefined) job.size = sz;
  const offset = num("offset", size, "a size (0, 1m, …)");
  if (offset !== undefined) job.offset = offset;
  const runtime = num("runtime", millis, "a duration (30, 30s, 500ms, 2m)", 1);
  if (runtime !== undefined) job.runtimeMs = runtime;
  const ios = num("number_ios", int, "a positive integer", 1);
  if (ios !== undefined) job.ioLimit = ios;
  const mix = num("rwmixread", int, "a percentage 0..100");
  if (mix !== undefined) {
    if (mix > 100) bad(seen.get("rwmixread")!.offset, `rwmixread ${mix} is not a percentage`, "0..100");
    else job.rwmixread = mix;
  }
  const ramp = num("ramp_time", millis, "a duration (5, 5s, 500ms)");
  if (ramp !== undefined) job.rampMs = ramp;
  const seed = num("randseed", int, "a non-negative integer");
  if (seed !== undefined) job.seed = seed;
  const verify = seen.get("verify");
  if (verify) {
    if (verify.value !== "crc32c" && verify.value !== "none" && verify.value !== "0")
      bad(verify.offset, `verify '${verify.value}' is not supported`, "crc32c or none");
    else job.verify = verify.value === "crc32c" ? "crc32c" : "none";
  }
  const name = seen.get("name");
  if (name) job.name = name.value;
  if (job.runtimeMs === undefined && job.ioLimit === undefined) job.runtimeMs = 30_000;
  const vdev = seen.get("vdev")?.value.replace(/^\/dev\//, "");
  if (problems.length > 0) return { problems };
  return vdev !== undefined ? { job, vdev } : { job };
}
