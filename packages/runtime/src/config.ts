import { readFileSync } from "node:fs";
import type { z } from "zod";

/** Where configuration comes from; later sources win: file < env < argv < overrides. */
export interface ConfigSources {
  /** A JSON file path, or an object already read. */
  file?: string | Record<string, unknown> | undefined;
  /** Environment; only variables starting with envPrefix are read: PREFIX_HTTP__PORT → http.port. */
  env?: Record<string, string | undefined> | undefined;
  /** Default "XENSIM_". */
  envPrefix?: string;
  /** Command-line flags: --http.port=8080, --http.port 8080, --nats-url=x (→ natsUrl), --flag, --no-flag. */
  argv?: readonly string[] | undefined;
  /** Values set by code (e.g. the host's per-service config). */
  overrides?: unknown;
}

export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ArrayBufferView | ArrayBuffer | SharedArrayBuffer
    ? T
    : T extends ReadonlyArray<infer U>
      ? ReadonlyArray<DeepReadonly<U>>
      : T extends object
        ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
        : T;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "CONFIG_INVALID";
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
  }
}

/** Freezes an object graph in place (typed arrays and buffers are left alone) and returns it. */
export function deepFreeze<T>(v: T): DeepReadonly<T> {
  if (v === null || typeof v !== "object" || Object.isFrozen(v)) return v as DeepReadonly<T>;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer)
    return v as DeepReadonly<T>;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  return v as DeepReadonly<T>;
}

type AnySchema = z.ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
}
const defOf = (s: AnySchema | undefined): Def | undefined =>
  (s as unknown as { _zod?: { def: Def } })?._zod?.def;

/** The schema node at a path, through optional/default/nullable/pipe wrappers. */
function schemaAt(schema: AnySchema, path: readonly string[]): AnySchema | undefined {
  let s: AnySchema | undefined = schema;
  for (let i = 0; ; i++) {
    s = unwrap(s);
    if (i === path.length || !s) return s;
    const d = defOf(s);
    if (d?.type !== "object") return undefined;
    const shape = (s as unknown as { shape: Record<string, AnySchema> }).shape;
    s = shape[path[i] as string];
  }
}
function unwrap(s: AnySchema | undefined): AnySchema | undefined {
  for (let n = 0; s && n < 20; n++) {
    const d = defOf(s);
    if (!d) return s;
    if (
      d.innerType &&
      ["optional", "default", "nullable", "readonly", "prefault", "catch", "nonoptional"].includes(d.type)
    ) {
      s = d.innerType;
    } else if (d.type === "pipe" && d.in) {
      s = d.in;
    } else return s;
  }
  return s;
}

/** For an unknown key: the closest known key, and every key the schema has at that place. */
function validKeysHint(
  schema: AnySchema,
  issue: { code: string; path: PropertyKey[]; keys?: string[] },
): string {
  if (issue.code !== "unrecognized_keys") return "";
  const at = schemaAt(schema, issue.path.map(String));
  if (defOf(at)?.type !== "object") return "";
  const valid = Object.keys((at as unknown as { shape: Record<string, unknown> }).shape);
  if (valid.length === 0) return "";
  const guesses = (issue.keys ?? [])
    .map((k) => closest(k, valid))
    .filter((g): g is string => g !== undefined);
  return `${guesses.length ? `; did you mean ${guesses.join(", ")}?` : ""}; valid keys: ${valid.join(", ")}`;
}

/** The candidate nearest to `word` by edit distance, when it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Turns a string from env or argv into the type the schema expects at that place. */
function coerce(raw: string, s: AnySchema | undefined): unknown {
  const d = defOf(s);
  switch (d?.type) {
    case "number":
    case "int":
      return raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case "bigint":
      return /^-?\d+$/.test(raw.trim()) ? BigInt(raw.trim()) : raw;
    case "boolean": {
      const v = raw.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(v)) return true;
      if (["false", "0", "no", "off", ""].includes(v)) return false;
      return raw;
    }
    case "array":
      if (raw.trim().startsWith("[")) return tryJson(raw);
      return raw === "" ? [] : raw.split(",").map((x) => coerce(x.trim(), unwrap(d.element)));
    case "object":
    case "record":
    case "map":
      return tryJson(raw);
    case "string":
    case "enum":
    case "literal":
    case "date":
      return raw;
    default: {
      // unions and the like: JSON if it parses as a non-string, else the string
      const j = tryJson(raw);
      return typeof j === "string" ? raw : j;
    }
  }
}
function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const camel = (s: string): string =>
  s.toLowerCase().replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const kebabToCamel = (s: string): string => s.replace(/-+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());

function setPath(obj: Record<string, unknown>, path: readonly string[], v: unknown): void {
  let o = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] as string;
    const next = o[k];
    if (typeof next !== "object" || next === null || Array.isArray(next)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1] as string] = v;
}

function mergeDeep(into: Record<string, unknown>, from: unknown): void {
  if (typeof from !== "object" || from === null || Array.isArray(from)) return;
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (
      typeof v === "object" &&
      v !== null &&
      !Array.isArray(v) &&
      !ArrayBuffer.isView(v) &&
      typeof cur === "object" &&
      cur !== null &&
      !Array.isArray(cur)
    ) {
      mergeDeep(cur as Record<string, unknown>, v);
    } else if (typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const fresh: Record<string, unknown> = {};
      mergeDeep(fresh, v);
      into[k] = fresh;
    } else {
      into[k] = v;
    }
  }
}

/** Parses argv flags into [path, raw string | true | false] entries. */
export function parseArgvFlags(
  argv: readonly string[],
): Array<{ path: string[]; raw: string | boolean; flag: string }> {
  const out: Array<{ path: string[]; raw: string | boolean; flag: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--") || a === "--") continue;
    const eq = a.indexOf("=");
    let name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    let raw: string | boolean;
    if (eq >= 0) raw = a.slice(eq + 1);
    else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith("--")) raw = argv[++i] as string;
    else if (name.startsWith("no-")) {
      name = name.slice(3);
      raw = false;
    } else raw = true;
    out.push({ path: name.split(".").map(kebabToCamel), raw, flag: a });
  }
  return out;
}

/**
 * Parses configuration once into a deeply frozen, typed object. Strings from env and argv are coerced
 * to the type the schema expects at that place (numbers, booleans, lists, JSON objects). Errors name the
 * key, the problem and where the value came from.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  sources: ConfigSources = {},
): DeepReadonly<z.output<S>> {
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  const note = (path: readonly string[], from: string): void => {
    origin.set(path.join("."), from);
  };
  const issues: string[] = [];

  if (sources.file !== undefined) {
    let fileObj: unknown = sources.file;
    if (typeof sources.file === "string") {
      try {
        fileObj = JSON.parse(readFileSync(sources.file, "utf8"));
      } catch (err) {
        throw new ConfigError(`config: cannot read ${sources.file}: ${(err as Error).message}`, [
          String(err),
        ]);
      }
    }
    mergeDeep(merged, fileObj);
    const from = typeof sources.file === "string" ? `file ${sources.file}` : "file";
    const walk = (value: unknown, p: string[]): void => {
      if (typeof value === "object" && value !== null && !Array.isArray(value))
        for (const [k, v] of Object.entries(value)) walk(v, [...p, k]);
      else note(p, from);
    };
    walk(fileObj, []);
  }
  if (sources.env) {
    const prefix = sources.envPrefix ?? "XENSIM_";
    for (const [k, v] of Object.entries(sources.env).sort(([a], [b]) => a.localeCompare(b))) {
      if (v === undefined || !k.startsWith(prefix)) continue;
      const path = k.slice(prefix.length).split("__").map(camel);
      if (path.some((p) => p === "")) continue;
      if (!schemaAt(schema, path)) continue; // not ours (another component's variable)
      setPath(merged, path, coerce(v, schemaAt(schema, path)));
      note(path, `env ${k}=${JSON.stringify(v)}`);
    }
  }
  if (sources.argv) {
    for (const { path, raw, flag } of parseArgvFlags(sources.argv)) {
      const at = schemaAt(schema, path);
      if (!at) continue;
      setPath(merged, path, typeof raw === "boolean" ? raw : coerce(raw, at));
      note(path, `argv ${flag}`);
    }
  }
  if (sources.overrides !== undefined) mergeDeep(merged, sources.overrides);

  const r = schema.safeParse(merged);
  if (!r.success) {
    for (const i of r.error.issues) {
      const key = i.path.map(String).join(".");
      let from = origin.get(key);
      for (let n = i.path.length - 1; !from && n > 0; n--)
        from = origin.get(i.path.slice(0, n).map(String).join("."));
      issues.push(
        `${key || "(root)"}: ${i.message}${from ? ` (from ${from})` : ""}${validKeysHint(schema, i)}`,
      );
    }
    throw new ConfigError(`invalid configuration:\n  - ${issues.join("\n  - ")}`, issues);
  }
  return deepFreeze(r.data) as DeepReadonly<z.output<S>>;
}
