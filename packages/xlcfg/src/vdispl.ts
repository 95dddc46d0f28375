// xl.cfg(5) `vdispl`: one VDISPL_SPEC_STRING, comma-separated KEY=VALUE settings — `backend=DOMAIN`
// (name or id; default Domain-0), `be-alloc=BOOLEAN`, `connectors=<id>:<W>x<H>;<id>:<W>x<H>…`
// (ids without spaces or commas).

/** One virtual display device. */
export interface XlVdispl {
  /** Backend domain as given (a name or an id; "0" by default). */
  readonly backend: string;
  readonly beAlloc: boolean;
  readonly connectors: readonly { readonly id: string; readonly width: number; readonly height: number }[];
}

export interface VdisplSpecProblem {
  /** 0-based index into the spec string. */
  readonly offset: number;
  readonly message: string;
  readonly expected?: string;
}

const KEYS = ["backend", "be-alloc", "connectors"] as const;
const MAX_DIM = 16384;

function parseBool(v: string): boolean | undefined {
  const t = v.trim().toLowerCase();
  if (["1", "y", "yes", "true", "on"].includes(t)) return true;
  if (["0", "n", "no", "false", "off"].includes(t)) return false;
  return undefined;
}

/** Parses one vdispl spec; the device or every problem found. */
export function parseVdisplSpec(spec: string): { vdispl: XlVdispl } | { problems: VdisplSpecProblem[] } {
  const problems: VdisplSpecProblem[] = [];
  const bad = (offset: number, message: string, expected?: string) =>
    problems.push({ offset, message, ...(expected ? { expected } : {}) });
  let backend = "0";
  let beAlloc = false;
  let connectors: { id: string; width: number; height: number }[] | undefined;
  const seen = new Set<string>();
  let off = 0;
  for (const part of spec.split(",")) {
    const at = off;
    off += part.length + 1;
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) {
      bad(at, `'${part.trim()}' is not KEY=VALUE`, KEYS.join("=…, ") + "=…");
      continue;
    }
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!(KEYS as readonly string[]).includes(key)) {
      bad(at, `unknown key '${key}'`, `one of ${KEYS.join(", ")}`);
      continue;
    }
    if (seen.has(key)) {
      bad(at, `'${key}' given twice`, "each key once");
      continue;
    }
    seen.add(key);
    if (key === "backend") {
      if (value === "" || /\s/.test(value)) bad(at, `backend '${value}' is not a domain name or id`);
      else backend = value;
    } else if (key === "be-alloc") {
      const b = parseBool(value);
      if (b === undefined) bad(at, `be-alloc '${value}' is not a boolean`, "0 or 1");
      else beAlloc = b;
    } else {
      connectors = [];
      const ids = new Set<string>();
      for (const c of value.split(";")) {
        if (c.trim() === "") continue;
        const m = /^([^\s,:]+):([0-9]{1,5})x([0-9]{1,5})$/.exec(c.trim());
        if (!m) {
          bad(at, `connector '${c.trim()}' is not <id>:<W>x<H>`, "e.g. id0:1920x1080");
          continue;
        }
        const [, id, w, h] = m;
        const width = Number(w);
        const height = Number(h);
        if (width < 1 || height < 1 || width > MAX_DIM || height > MAX_DIM) {
          bad(at, `connector ${id}: ${width}x${height} is out of range`, `1..${MAX_DIM} pixels`);
          continue;
        }
        if (ids.has(id!)) {
          bad(at, `connector id '${id}' used twice`, "distinct ids");
          continue;
        }
        ids.add(id!);
        connectors.push({ id: id!, width, height });
      }
    }
  }
  if (!connectors || connectors.length === 0)
    bad(0, "no connectors", "connectors=<id>:<W>x<H>;… (e.g. connectors=id0:1920x1080)");
  if (problems.length > 0) return { problems };
  return { vdispl: { backend, beAlloc, connectors: connectors! } };
}

/** The spec string of a device (round trip of parseVdisplSpec). */
export function formatVdisplSpec(v: XlVdispl): string {
  return `backend=${v.backend},be-alloc=${v.beAlloc ? 1 : 0},connectors=${v.connectors
    .map((c) => `${c.id}:${c.width}x${c.height}`)
    .join(";")}`;
}
