// openStore(spec): builds a store from a validated spec object or string.
import type { BlockStore } from "@xensim/blkif";
import { ARRAY_PROFILES, type ArrayProfileName } from "./array-model.js";
import { ModelledArrayStore } from "./array-store.js";
import type { Clock } from "./clock.js";
import type { DiskPolicy } from "./confine.js";
import { FaultStore, type FaultSettings } from "./fault-store.js";
import { FileStore } from "./file-store.js";
import { MemoryStore } from "./memory-store.js";
import { NullStore } from "./null-store.js";

export type FaultSpec = Partial<FaultSettings> & { readonly seed: number };

export type StoreSpec = (
  | {
      readonly kind: "file";
      readonly path: string;
      readonly sizeBytes?: number;
      readonly readonly?: boolean;
      readonly discard?: "zero" | "unsupported";
    }
  | { readonly kind: "memory"; readonly sizeBytes: number; readonly readonly?: boolean }
  | {
      readonly kind: "null";
      readonly sizeBytes: number;
      readonly readonly?: boolean;
      /** Reads return zeros (default: their buffers are left untouched, as null_blk). */
      readonly zeroFill?: boolean;
    }
  | {
      readonly kind: "array";
      readonly profile: ArrayProfileName;
      readonly sizeBytes: number;
      readonly seed: number;
      readonly data?: "memory" | "null";
    }
) & { readonly fault?: FaultSpec };

export class StoreSpecError extends Error {
  override readonly name = "StoreSpecError";
  readonly code = "EINVAL";
}

const SIZE_RE = /^(\d+)([KMGT]?)(i?B)?$/i;
const MULT: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "64M", "1G", "4096", "16KiB" → bytes (binary multiples). */
export function parseSize(s: string): number {
  const m = SIZE_RE.exec(s.trim());
  if (m === null) throw new StoreSpecError(`size '${s}' is not <digits>[K|M|G|T]`);
  return Number(m[1]) * (MULT[(m[2] ?? "").toUpperCase()] as number);
}

/**
 * Parses the string form `kind:key=value,key=value…`, e.g. `memory:size=64M`, `null:size=1G` (`null:size=1G,zero`: reads return zeros),
 * `file:path=/var/img/disk.raw,size=1G,readonly`, `array:profile=iscsi-array,size=1G,seed=7,data=null`.
 * Any kind also takes fault keys: `fault-seed`, `error-rate`, `latency-ms`, `torn-write-rate`,
 * `fail-next` (a fault wrapper is added when `fault-seed` is present).
 */
export function parseStoreSpec(s: string): StoreSpec {
  const colon = s.indexOf(":");
  const kind = colon < 0 ? s : s.slice(0, colon);
  const kv = new Map<string, string>();
  if (colon >= 0 && colon < s.length - 1) {
    for (const part of s.slice(colon + 1).split(",")) {
      const eq = part.indexOf("=");
      const k = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (k === "") throw new StoreSpecError(`store spec '${s}': empty key`);
      if (kv.has(k)) throw new StoreSpecError(`store spec '${s}': key '${k}' given twice`);
      kv.set(k, eq < 0 ? "true" : part.slice(eq + 1));
    }
  }
  const take = (k: string): string | undefined => {
    const v = kv.get(k);
    kv.delete(k);
    return v;
  };
  const num = (k: string, v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n))
      throw new StoreSpecError(`store spec '${s}': ${k}='${v}' is not a number`);
    return n;
  };
  const size = take("size");
  const ro = take("readonly");
  const readonly = ro === undefined ? undefined : ro === "true" || ro === "1";
  let fault: FaultSpec | undefined;
  const fseed = take("fault-seed");
  const faultKeys: [string, keyof FaultSettings][] = [
    ["error-rate", "errorRate"],
    ["latency-ms", "latencyMs"],
    ["torn-write-rate", "tornWriteRate"],
    ["fail-next", "failNext"],
  ];
  const fvals: Record<string, number> = {};
  for (const [k, f] of faultKeys) {
    const v = take(k);
    if (v !== undefined) fvals[f] = num(k, v);
  }
  if (fseed !== undefined) fault = { seed: num("fault-seed", fseed), ...fvals };
  else if (Object.keys(fvals).length > 0)
    throw new StoreSpecError(`store spec '${s}': fault keys need fault-seed`);
  let spec: Record<string, unknown>;
  switch (kind) {
    case "file":
      spec = {
        kind,
        path: take("path"),
        sizeBytes: size === undefined ? undefined : parseSize(size),
        readonly,
        discard: take("discard"),
      };
      break;
    case "memory":
      spec = { kind, sizeBytes: size === undefined ? undefined : parseSize(size), readonly };
      break;
    case "null": {
      const zero = take("zero");
      spec = {
        kind,
        sizeBytes: size === undefined ? undefined : parseSize(size),
        readonly,
        zeroFill: zero === undefined ? undefined : zero === "true" || zero === "1",
      };
      break;
    }
    case "array": {
      if (readonly !== undefined)
        throw new StoreSpecError(`store spec '${s}': an array store cannot be read-only`);
      const seed = take("seed");
      spec = {
        kind,
        profile: take("profile"),
        sizeBytes: size === undefined ? undefined : parseSize(size),
        seed: seed === undefined ? undefined : num("seed", seed),
        data: take("data"),
      };
      break;
    }
    default:
      throw new StoreSpecError(`store spec '${s}': unknown kind '${kind}' (file, memory, null, array)`);
  }
  if (kv.size > 0) throw new StoreSpecError(`store spec '${s}': unknown key(s) ${[...kv.keys()].join(", ")}`);
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  if (fault !== undefined) spec.fault = fault;
  return validateStoreSpec(spec);
}

/** Checks a spec object (e.g. parsed from JSON) and returns it typed, or throws StoreSpecError. */
export function validateStoreSpec(x: unknown): StoreSpec {
  if (typeof x !== "object" || x === null) throw new StoreSpecError("store spec is not an object");
  const o = x as Record<string, unknown>;
  const where = `store spec ${JSON.stringify(o)}`;
  const size = (req: boolean) => {
    const v = o.sizeBytes;
    if (v === undefined && !req) return;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0 || v % 512 !== 0) {
      throw new StoreSpecError(`${where}: sizeBytes must be a positive multiple of 512`);
    }
  };
  const bool = (k: string) => {
    if (o[k] !== undefined && typeof o[k] !== "boolean")
      throw new StoreSpecError(`${where}: ${k} must be a boolean`);
  };
  switch (o.kind) {
    case "file":
      if (typeof o.path !== "string" || o.path === "")
        throw new StoreSpecError(`${where}: file needs a path`);
      size(false);
      bool("readonly");
      if (o.discard !== undefined && o.discard !== "zero" && o.discard !== "unsupported") {
        throw new StoreSpecError(`${where}: discard must be "zero" or "unsupported"`);
      }
      break;
    case "memory":
      size(true);
      bool("readonly");
      break;
    case "null":
      size(true);
      bool("readonly");
      bool("zeroFill");
      break;
    case "array":
      size(true);
      if (
        typeof o.profile !== "string" ||
        !(o.profile === "null" || Object.hasOwn(ARRAY_PROFILES, o.profile))
      ) {
        throw new StoreSpecError(
          `${where}: profile must be one of ${[...Object.keys(ARRAY_PROFILES), "null"].join(", ")}`,
        );
      }
      if (typeof o.seed !== "number" || !Number.isSafeInteger(o.seed))
        throw new StoreSpecError(`${where}: array needs an integer seed`);
      if (o.data !== undefined && o.data !== "memory" && o.data !== "null")
        throw new StoreSpecError(`${where}: data must be "memory" or "null"`);
      break;
    default:
      throw new StoreSpecError(`${where}: kind must be file, memory, null or array`);
  }
  if (o.fault !== undefined) {
    const f = o.fault as Record<string, unknown>;
    if (typeof f !== "object" || f === null || typeof f.seed !== "number" || !Number.isSafeInteger(f.seed)) {
      throw new StoreSpecError(`${where}: fault needs an integer seed`);
    }
    for (const k of Object.keys(f)) {
      if (!["seed", "errorRate", "latencyMs", "tornWriteRate", "failNext", "ops"].includes(k))
        throw new StoreSpecError(`${where}: unknown fault key '${k}'`);
      if (k !== "ops" && typeof f[k] !== "number")
        throw new StoreSpecError(`${where}: fault ${k} must be a number`);
    }
  }
  return o as StoreSpec;
}

/** Bytes of this process's memory the store would allocate for its data (memory, array with data=memory). */
export function storeMemoryBytes(spec: StoreSpec): number {
  if (spec.kind === "memory") return spec.sizeBytes;
  if (spec.kind === "array" && spec.profile !== "null" && (spec.data ?? "memory") === "memory")
    return spec.sizeBytes;
  return 0;
}

export interface OpenStoreOptions {
  clock?: Clock;
  /** Confine file stores (see {@link DiskPolicy}); absent = paths opened as given. */
  diskPolicy?: DiskPolicy;
  /** Refuse stores that would allocate more than this many bytes of memory (StoreSpecError). */
  maxMemoryBytes?: number;
}

/** Opens the store a spec (object or string, see {@link parseStoreSpec}) describes. */
export async function openStore(spec: StoreSpec | string, opts: OpenStoreOptions = {}): Promise<BlockStore> {
  const s = typeof spec === "string" ? parseStoreSpec(spec) : validateStoreSpec(spec);
  if (opts.maxMemoryBytes !== undefined && storeMemoryBytes(s) > opts.maxMemoryBytes)
    throw new StoreSpecError(
      `a ${s.kind} store of ${storeMemoryBytes(s)} bytes is larger than this host allows in memory (${opts.maxMemoryBytes} bytes)`,
    );
  let store: BlockStore;
  switch (s.kind) {
    case "file":
      store = await FileStore.open(opts.diskPolicy ? { ...s, policy: opts.diskPolicy } : s);
      break;
    case "memory":
      store = new MemoryStore(s);
      break;
    case "null":
      store = new NullStore(s);
      break;
    case "array":
      store =
        s.profile === "null"
          ? new NullStore({ sizeBytes: s.sizeBytes })
          : new ModelledArrayStore({
              profile: s.profile,
              sizeBytes: s.sizeBytes,
              seed: s.seed,
              inner: s.data ?? "memory",
              ...(opts.clock ? { clock: opts.clock } : {}),
            });
      break;
  }
  if (s.fault !== undefined) {
    try {
      store = new FaultStore(store, { ...s.fault, ...(opts.clock ? { clock: opts.clock } : {}) });
    } catch (e) {
      await store.close();
      throw new StoreSpecError(`store spec: ${(e as Error).message}`);
    }
  }
  return store;
}
