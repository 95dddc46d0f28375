import { createServer } from "node:net";

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Included in the timeout error; a function is called only then (e.g. to show a process's output at the timeout). */
  message?: string | (() => string);
}

/** Polls pred until it returns a truthy value (which is returned), or throws after timeoutMs. */
export async function waitFor<T>(
  pred: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 10;
  const start = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const v = await pred();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - start >= timeoutMs) {
      const what = (typeof opts.message === "function" ? opts.message() : opts.message) ?? "condition";
      const err = new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
      if (lastError !== undefined) (err as Error & { cause?: unknown }).cause = lastError;
      throw err;
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
