// Node permissions (struct xs_permissions, xenstore_strings_to_perms / xenstore_perm_to_string).

/** Access letter of a permission entry: n none, r read, w write, b both. */
export type XsPermAccess = "n" | "r" | "w" | "b";

/** One permission entry. The first entry of a node names its owner and the default access. */
export interface XsPerm {
  id: number;
  perm: XsPermAccess;
}

export const XS_PERM_NONE = 0x00;
export const XS_PERM_READ = 0x01;
export const XS_PERM_WRITE = 0x02;
/** Internal: the caller owns the node (owner, privileged domain). */
export const XS_PERM_OWNER = 0x08;

const ACCESS_BITS: Readonly<Record<XsPermAccess, number>> = {
  n: XS_PERM_NONE,
  r: XS_PERM_READ,
  w: XS_PERM_WRITE,
  b: XS_PERM_READ | XS_PERM_WRITE,
};

export function permAccessBits(a: XsPermAccess): number {
  return ACCESS_BITS[a];
}

/**
 * Parses one permission string as C xenstored does: a letter, then a number read by strtol(…, 0)
 * (decimal, 0x hex or 0 octal, optional sign) that must use up the rest of the string.
 */
export function parseXsPerm(s: string): XsPerm | undefined {
  const perm = s[0];
  if (perm !== "n" && perm !== "r" && perm !== "w" && perm !== "b") return undefined;
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s.slice(1));
  if (!m) return undefined;
  const digits = m[2]!;
  let v =
    digits.length > 1 && (digits[1] === "x" || digits[1] === "X")
      ? Number.parseInt(digits.slice(2), 16)
      : digits.length > 1 && digits[0] === "0"
        ? Number.parseInt(digits.slice(1), 8)
        : Number.parseInt(digits, 10);
  if (m[1] === "-") v = -v;
  // strtol clamps to long, then the result is stored in an unsigned int.
  if (!Number.isSafeInteger(v)) v = v < 0 ? -(2 ** 63) : 2 ** 63 - 1;
  return { id: Number(BigInt.asUintN(32, BigInt(v))), perm };
}

/** Formats one entry as C xenstored's GET_PERMS does ("%i" of the id: ids ≥ 2^31 print negative). */
export function formatXsPerm(p: XsPerm): string {
  return `${p.perm}${p.id | 0}`;
}
