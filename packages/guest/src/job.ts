// What a guest reads from its VM directory: the workload (a fio-like job string, or "idle") and its
// block-frontend settings, parsed into @xensim/workload's FioJobSpec and blkif's BlkfrontConfig.
import type { BlkfrontConfig } from "@xensim/blkif";
import type { FioJobSpec, RwPattern } from "@xensim/workload";

const RW: readonly RwPattern[] = ["read", "write", "randread", "randwrite", "randrw", "rw", "readwrite"];

export class GuestConfigError extends Error {
  override readonly name = "GuestConfigError";
  readonly code = "EINVAL";
}

/** A parsed workload: no job ("idle"), or a job on the disk `vdev` (default: the first disk). */
export type GuestWorkload = { kind: "idle" } | { kind: "job"; spec: FioJobSpec; vdev?: string; text: string };

/** "4k" → 4096, "64m" → 67108864, "1g", "512" (bytes; k/m/g/t are powers of 1024, fio's default). */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new GuestConfigError(`bad size '${v}'`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n)) throw new GuestConfigError(`size '${v}' out of range`);
  return n;
}

/** "30" / "30s" → 30000, "500ms" → 500, "2m" → 120000, "1h" (fio: seconds without a unit). */
export function parseDurationMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|us|s|m|h)?$/i.exec(v.trim());
  if (!m) throw new GuestConfigError(`bad duration '${v}'`);
  const mult = { ms: 1, us: 0.001, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s").toLowerCase()]!;
  return Math.round(Number(m[1]) * mult);
}

function intOf(k: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new GuestConfigError(`${k}=${v}: not in ${min}..${max}`);
  return n;
}

function boolOf(k: string, v: string): boolean {
  if (["1", "true", "yes", "on"].includes(v.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(v.toLowerCase())) return false;
  throw new GuestConfigError(`${k}=${v}: not a boolean`);
}

function pairs(text: string): Array<[string, string]> {
  return text
    .split(/[,\s]+/)
    .filter((p) => p !== "")
    .map((p) => {
      const i = p.indexOf("=");
      return i < 0 ? [p.toLowerCase(), ""] : [p.slice(0, i).toLowerCase(), p.slice(i + 1)];
    });
}

/**
 * Parses `/vm/<uuid>/xensim/workload`: "idle" (or empty), or fio-style `key=value` pairs separated
 * by commas or spaces — rw, bs, iodepth, size, offset, runtime (s, or with a unit), number_ios (an
 * I/O count), rwmixread, verify (crc32c|none|0), ramp_time, seed, name, and vdev (or filename) for
 * the disk (default: the first disk). A job needs runtime or number_ios; runtime defaults to 30 s.
 */
export function parseWorkload(text: string): GuestWorkload {
  const t = text.trim();
  if (t === "" || t === "idle") return { kind: "idle" };
  const spec: { -readonly [K in keyof FioJobSpec]: FioJobSpec[K] } = { rw: "randrw", bs: 4096, iodepth: 16 };
  let vdev: string | undefined;
  for (const [k, v] of pairs(t)) {
    switch (k) {
      case "rw":
      case "readwrite":
        if (!RW.includes(v as RwPattern)) throw new GuestConfigError(`rw=${v}: one of ${RW.join(", ")}`);
        spec.rw = v as RwPattern;
        break;
      case "bs":
      case "blocksize":
        spec.bs = parseSize(v);
        break;
      case "iodepth":
        spec.iodepth = intOf(k, v, 1, 65536);
        break;
      case "size":
        spec.size = parseSize(v);
        break;
      case "offset":
        spec.offset = parseSize(v);
        break;
      case "runtime":
        spec.runtimeMs = parseDurationMs(v);
        break;
      case "number_ios":
      case "ios":
        spec.ioLimit = intOf(k, v, 1, Number.MAX_SAFE_INTEGER);
        break;
      case "rwmixread":
        spec.rwmixread = intOf(k, v, 0, 100);
        break;
      case "verify":
        if (v === "crc32c" || v === "crc32c-intel") spec.verify = "crc32c";
        else if (v === "none" || v === "0") spec.verify = "none";
        else throw new GuestConfigError(`verify=${v}: crc32c or none`);
        break;
      case "ramp_time":
        spec.rampMs = parseDurationMs(v);
        break;
      case "seed":
      case "randseed":
        spec.seed = intOf(k, v, 0, 0xffff_ffff);
        break;
      case "name":
        spec.name = v;
        break;
      case "vdev":
      case "filename":
        vdev = v.replace(/^\/dev\//, "");
        break;
      case "time_based":
      case "direct":
      case "ioengine":
        break; // fio habits: accepted, meaningless here
      default:
        throw new GuestConfigError(`unknown workload key '${k}'`);
    }
  }
  if (spec.bs <= 0 || spec.bs % 512 !== 0) throw new GuestConfigError(`bs=${spec.bs}: a multiple of 512`);
  if (spec.runtimeMs === undefined && spec.ioLimit === undefined) spec.runtimeMs = 30_000;
  return { kind: "job", spec, text: t, ...(vdev !== undefined ? { vdev } : {}) };
}

/**
 * Parses `/vm/<uuid>/xensim/blkfront`: `key=value` pairs — ring-page-order (0..6; also
 * max-ring-page-order), queues (1..64; also max-queues), indirect-segments (0..4096; also
 * max-indirect-segments), persistent (0|1). Empty → {}.
 */
export function parseBlkfrontSettings(
  text: string,
): Partial<{ -readonly [K in keyof BlkfrontConfig]: BlkfrontConfig[K] }> {
  const out: Partial<{ -readonly [K in keyof BlkfrontConfig]: BlkfrontConfig[K] }> = {};
  for (const [k, v] of pairs(text)) {
    switch (k) {
      case "ring-page-order":
      case "max-ring-page-order":
        out.maxRingPageOrder = intOf(k, v, 0, 6);
        break;
      case "queues":
      case "max-queues":
        out.maxQueues = intOf(k, v, 1, 64);
        break;
      case "indirect-segments":
      case "max-indirect-segments":
        out.maxIndirectSegments = intOf(k, v, 0, 4096);
        break;
      case "persistent":
        out.persistent = boolOf(k, v);
        break;
      default:
        throw new GuestConfigError(`unknown blkfront key '${k}'`);
    }
  }
  return out;
}
