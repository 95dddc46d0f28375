import { BusError, BusErrorCode } from "./errors.js";

/** Throws BAD_SUBJECT unless s is a valid NATS subject (wildcards allowed when `pattern`). */
export function validateSubject(s: string, pattern: boolean): void {
  if (typeof s !== "string" || s.length === 0 || /\s/.test(s)) {
    throw new BusError(BusErrorCode.BadSubject, `invalid subject '${s}'`);
  }
  const toks = s.split(".");
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as string;
    if (t.length === 0) throw new BusError(BusErrorCode.BadSubject, `invalid subject '${s}' (empty token)`);
    if (t === "*" || t === ">") {
      if (!pattern) throw new BusError(BusErrorCode.BadSubject, `wildcard in publish subject '${s}'`);
      if (t === ">" && i !== toks.length - 1) {
        throw new BusError(BusErrorCode.BadSubject, `'>' must be the last token in '${s}'`);
      }
    } else if (pattern && (t.includes("*") || t.includes(">"))) {
      throw new BusError(BusErrorCode.BadSubject, `wildcard inside a token in '${s}'`);
    }
  }
}

/** NATS subject matching: `*` matches one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const pt = p[i];
    if (pt === ">") return s.length > i;
    if (i >= s.length) return false;
    if (pt !== "*" && pt !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Glob for method names in call fault rules: `*` matches any run of characters. */
export function globMatches(glob: string, name: string): boolean {
  if (glob === "*" || glob === name) return true;
  const re = new RegExp(`^${glob.split("*").map(escapeRe).join(".*")}$`);
  return re.test(name);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
