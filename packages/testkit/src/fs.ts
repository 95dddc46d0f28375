import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TempDir {
  readonly path: string;
  /** Removes the directory and everything in it (idempotent). */
  cleanup(): void;
  [Symbol.dispose](): void;
}

/** Creates a fresh directory under the OS temp dir. */
export function tempDir(prefix = "xensim-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = (): void => rmSync(path, { recursive: true, force: true });
  return { path, cleanup, [Symbol.dispose]: cleanup };
}
