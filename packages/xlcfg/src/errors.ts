// Errors of an xl.cfg file: each with file, line and column (1-based) and what was expected.

export interface XlCfgError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** What would have been accepted here. */
  readonly expected?: string;
}

/** "guest.cfg:3:10: memory 0 is not positive (expected an integer number of MiB in 1..4096)". */
export function formatXlCfgError(e: XlCfgError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}${e.expected ? ` (expected ${e.expected})` : ""}`;
}

/** Thrown by `parseXlCfgOrThrow`: every error of the file, not just the first. */
export class XlCfgParseError extends Error {
  override readonly name = "XlCfgParseError";
  readonly code = "EINVAL";
  constructor(readonly errors: readonly XlCfgError[]) {
    super(errors.map(formatXlCfgError).join("\n"));
  }
}
