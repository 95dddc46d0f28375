// xl.cfg's lexical level (libxlu's cfg lexer): identifiers, "…"/'…' strings, decimal and 0x numbers,
// `=`, `[`, `]`, `,`, `;`, newlines, `#` comments to the end of the line. Positions are 1-based.
import type { XlCfgError } from "./errors.js";

export type Token =
  | { kind: "ident"; text: string; line: number; column: number }
  | { kind: "string"; value: string; line: number; column: number }
  | { kind: "number"; value: number; text: string; line: number; column: number }
  | { kind: "punct"; text: "=" | "[" | "]" | "," | ";" | "+="; line: number; column: number }
  | { kind: "newline"; line: number; column: number }
  | { kind: "eof"; line: number; column: number };

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" };

/** Tokens of `text`; lexical errors are appended to `errors` (the bad character is skipped). */
export function tokenize(text: string, file: string, errors: XlCfgError[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  const err = (l: number, c: number, message: string, expected?: string) =>
    errors.push({ file, line: l, column: c, message, ...(expected ? { expected } : {}) });
  const adv = (n = 1) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === "\n") {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (i < text.length) {
    const ch = text[i]!;
    const l = line;
    const c = col;
    if (ch === "\n") {
      out.push({ kind: "newline", line: l, column: c });
      adv();
    } else if (ch === " " || ch === "\t" || ch === "\r") adv();
    else if (ch === "#") {
      while (i < text.length && text[i] !== "\n") adv();
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_.]/.test(text[j]!)) j++;
      out.push({ kind: "ident", text: text.slice(i, j), line: l, column: c });
      adv(j - i);
    } else if (/[0-9]/.test(ch) || (ch === "-" && /[0-9]/.test(text[i + 1] ?? ""))) {
      let j = i + (ch === "-" ? 1 : 0);
      while (j < text.length && /[0-9A-Za-z_.]/.test(text[j]!)) j++;
      const raw = text.slice(i, j);
      const v = /^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(raw)
        ? raw.startsWith("-")
          ? -Number(raw.slice(1))
          : Number(raw)
        : Number.NaN;
      if (Number.isNaN(v)) err(l, c, `bad number '${raw}'`, "a decimal or 0x-hexadecimal integer");
      else out.push({ kind: "number", value: v, text: raw, line: l, column: c });
      adv(j - i);
    } else if (ch === '"' || ch === "'") {
      adv();
      let value = "";
      let closed = false;
      while (i < text.length && text[i] !== "\n") {
        const d = text[i]!;
        if (d === ch) {
          closed = true;
          adv();
          break;
        }
        if (d === "\\" && ch === '"' && i + 1 < text.length && text[i + 1] !== "\n") {
          const e = text[i + 1]!;
          const mapped = ESCAPES[e];
          if (mapped === undefined)
            err(line, col, `unknown escape '\\${e}' in a string`, "\\n \\t \\r \\\\ \\\" \\'");
          value += mapped ?? e;
          adv(2);
          continue;
        }
        value += d;
        adv();
      }
      if (!closed) err(l, c, "unterminated string", `a closing ${ch} on the same line`);
      out.push({ kind: "string", value, line: l, column: c });
    } else if (ch === "+" && text[i + 1] === "=") {
      out.push({ kind: "punct", text: "+=", line: l, column: c });
      adv(2);
    } else if (ch === "=" || ch === "[" || ch === "]" || ch === "," || ch === ";") {
      out.push({ kind: "punct", text: ch, line: l, column: c });
      adv();
    } else {
      err(l, c, `unexpected character ${JSON.stringify(ch)}`);
      adv();
    }
  }
  out.push({ kind: "eof", line, column: col });
  return out;
}
