// printf/scanf subsets for xenstore values, as xenbus_printf / xenbus_scanf use them.

/**
 * Formats `%d %i %u %x %s %%` (no flags or widths): enough for error messages and keys.
 * A conversion with no argument left is printed as is.
 */
export function xbFormat(fmt: string, args: readonly unknown[]): string {
  let i = 0;
  return fmt.replace(/%([%diuxs])/g, (whole, conv: string) => {
    if (conv === "%") return "%";
    if (i >= args.length) return whole;
    const a = args[i++];
    switch (conv) {
      case "d":
      case "i":
        return typeof a === "bigint" ? a.toString() : String(Math.trunc(Number(a)));
      case "u":
        return typeof a === "bigint" ? BigInt.asUintN(32, a).toString() : String(Number(a) >>> 0);
      case "x":
        return typeof a === "bigint" ? a.toString(16) : (Number(a) >>> 0).toString(16);
      default:
        return String(a);
    }
  });
}

/**
 * sscanf "%d" / "%i" on a xenstore value: optional leading blanks and sign, then digits (%i also
 * takes 0x.. hex and 0.. octal). Trailing text is ignored, as sscanf does. undefined when nothing
 * converts or the result is outside the int32 range.
 */
export function scanInt(text: string, conv: "d" | "i" = "d"): number | undefined {
  const m =
    conv === "i"
      ? /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text)
      : /^\s*([+-]?)([0-9]+)/.exec(text);
  if (!m) return undefined;
  const digits = m[2] ?? "";
  let v: number;
  if (conv === "i" && /^0[xX]/.test(digits)) v = Number.parseInt(digits.slice(2), 16);
  else if (conv === "i" && digits.startsWith("0"))
    v = digits.length > 1 ? Number.parseInt(digits.slice(1), 8) : 0;
  else v = Number.parseInt(digits, 10);
  if (m[1] === "-") v = -v;
  if (!Number.isSafeInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) return undefined;
  return v;
}

/** sscanf "%u" (non-negative decimal, up to 2^32 - 1); undefined when nothing converts. */
export function scanUnsigned(text: string): number | undefined {
  const m = /^\s*\+?([0-9]+)/.exec(text);
  if (!m) return undefined;
  const v = Number.parseInt(m[1] ?? "", 10);
  if (!Number.isSafeInteger(v) || v > 0xffff_ffff) return undefined;
  return v;
}
