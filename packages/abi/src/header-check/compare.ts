// Compares what the C compiler computed with the TypeScript tables.

import { claimedBits, type HeaderCheckUnit, setBits } from "./cgen.js";

export interface HeaderCheckValuesLike {
  readonly nums: readonly bigint[];
  readonly bits: readonly Uint8Array[];
  readonly strs: readonly string[];
}

export interface Mismatch {
  readonly path: string;
  readonly header: string;
  readonly expr: string;
  readonly ts: string;
  readonly c: string;
}

export function compareHeaderCheck(unit: HeaderCheckUnit, v: HeaderCheckValuesLike): Mismatch[] {
  const out: Mismatch[] = [];
  unit.nums.forEach((c, i) => {
    const got = v.nums[i];
    const want = BigInt.asIntN(64, c.expected);
    if (got !== want)
      out.push({ path: c.path, header: c.header, expr: c.expr, ts: String(c.expected), c: String(got) });
  });
  unit.bits.forEach((c, i) => {
    const raw = v.bits[i];
    const got = raw ? setBits(raw).join(",") : "missing";
    const want = claimedBits(c.expected).join(",");
    if (got !== want)
      out.push({
        path: c.path,
        header: c.header,
        expr: `${c.ctype}.${c.member}`,
        ts: `bits ${want}`,
        c: `bits ${got}`,
      });
  });
  unit.strs.forEach((c, i) => {
    const got = v.strs[i];
    if (got !== c.expected)
      out.push({
        path: c.path,
        header: c.header,
        expr: c.expr,
        ts: JSON.stringify(c.expected),
        c: JSON.stringify(got),
      });
  });
  return out;
}

export function formatMismatches(abi: string, ms: readonly Mismatch[]): string {
  return [
    `${ms.length} value(s) differ from the Xen headers (${abi}):`,
    ...ms.map((m) => `  ${m.path}  [${m.header}: ${m.expr}]  ts=${m.ts}  c=${m.c}`),
  ].join("\n");
}
