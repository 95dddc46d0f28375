// What the bench subcommands share: sizes, the progress line, writing results.
/** "4096", "4k", "1m" → bytes. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+)([kKmM]?)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "" ? 1 : /[kK]/.test(m[2]!) ? 1024 : 1024 * 1024);
}
