// xl.cfg's grammar (libxlu): settings `KEY = VALUE` ended by a newline or `;`; a value is a string,
// a number or a list `[ v, v, … ]` (newlines allowed inside, trailing comma allowed). `+=` (append)
// is refused. Errors are collected and parsing resumes at the next line.
import type { XlCfgError } from "./errors.js";
import { type Token, tokenize } from "./lexer.js";

export type XlValue =
  | { kind: "string"; value: string; line: number; column: number }
  | { kind: "number"; value: number; line: number; column: number }
  | { kind: "list"; items: XlValue[]; line: number; column: number };

export interface XlSetting {
  key: string;
  value: XlValue;
  line: number;
  column: number;
}

/** The settings of `text` in file order (duplicates kept: the checker reports them). */
export function parseSettings(text: string, file: string, errors: XlCfgError[]): XlSetting[] {
  const toks = tokenize(text, file, errors);
  const out: XlSetting[] = [];
  let p = 0;
  const peek = (): Token => toks[p]!;
  const err = (t: Token, message: string, expected?: string) =>
    errors.push({ file, line: t.line, column: t.column, message, ...(expected ? { expected } : {}) });
  const describe = (t: Token): string =>
    t.kind === "eof"
      ? "end of file"
      : t.kind === "newline"
        ? "end of line"
        : t.kind === "ident"
          ? `'${t.text}'`
          : t.kind === "punct"
            ? `'${t.text}'`
            : t.kind === "string"
              ? `string ${JSON.stringify(t.value)}`
              : `number ${t.text}`;
  /** Skip to the token after the next newline/';' at depth 0. */
  const recover = () => {
    let depth = 0;
    while (peek().kind !== "eof") {
      const t = toks[p++]!;
      if (t.kind === "punct" && t.text === "[") depth++;
      else if (t.kind === "punct" && t.text === "]") depth = Math.max(0, depth - 1);
      else if (depth === 0 && (t.kind === "newline" || (t.kind === "punct" && t.text === ";"))) return;
    }
  };
  const skipNewlines = () => {
    while (peek().kind === "newline") p++;
  };
  const value = (inList: boolean): XlValue | undefined => {
    const t = peek();
    if (t.kind === "string") {
      p++;
      return { kind: "string", value: t.value, line: t.line, column: t.column };
    }
    if (t.kind === "number") {
      p++;
      return { kind: "number", value: t.value, line: t.line, column: t.column };
    }
    if (t.kind === "punct" && t.text === "[") {
      if (inList) {
        err(t, "nested lists are not allowed", "a string or a number");
        return undefined;
      }
      p++;
      const items: XlValue[] = [];
      for (;;) {
        skipNewlines();
        const q = peek();
        if (q.kind === "punct" && q.text === "]") {
          p++;
          return { kind: "list", items, line: t.line, column: t.column };
        }
        const v = value(true);
        if (v === undefined) return undefined;
        items.push(v);
        skipNewlines();
        const s = peek();
        if (s.kind === "punct" && s.text === ",") p++;
        else if (!(s.kind === "punct" && s.text === "]")) {
          err(s, `unexpected ${describe(s)} in a list`, "',' or ']'");
          return undefined;
        }
      }
    }
    err(t, `unexpected ${describe(t)}`, inList ? "a string or a number" : "a string, a number or a list");
    return undefined;
  };
  for (;;) {
    skipNewlines();
    const t = peek();
    if (t.kind === "eof") break;
    if (t.kind === "punct" && t.text === ";") {
      p++;
      continue;
    }
    if (t.kind !== "ident") {
      err(t, `unexpected ${describe(t)}`, "a setting name");
      recover();
      continue;
    }
    p++;
    const eq = peek();
    if (eq.kind === "punct" && eq.text === "+=") {
      err(eq, `'+=' (append to ${t.text}) is not supported`, "'='");
      recover();
      continue;
    }
    if (!(eq.kind === "punct" && eq.text === "=")) {
      err(eq, `unexpected ${describe(eq)} after '${t.text}'`, "'='");
      recover();
      continue;
    }
    p++;
    const v = value(false);
    if (v === undefined) {
      recover();
      continue;
    }
    const end = peek();
    if (end.kind === "newline" || end.kind === "eof" || (end.kind === "punct" && end.text === ";")) {
      if (end.kind !== "eof") p++;
    } else {
      err(end, `unexpected ${describe(end)} after the value of '${t.text}'`, "end of line or ';'");
      recover();
    }
    out.push({ key: t.text, value: v, line: t.line, column: t.column });
  }
  return out;
}
