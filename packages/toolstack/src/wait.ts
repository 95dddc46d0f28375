// The flows' waits, as libxl's xswait: the condition is checked again whenever xenstore fires a
// watch on one of the paths it depends on (xenstored fires each watch once on registration, so a
// change between the first check and the watch is not missed), and every `fallbackMs` as well —
// for what xenstore does not show (the hypervisor's domain state, event-channel status) and for a
// watch event that was lost. Without paths the condition is polled every `fallbackMs`.
import type { XenbusStore, XenbusWatch } from "@xensim/xenbus";
import { type ToolstackClock, ToolstackError } from "./ports.js";

export interface WaitDeps {
  xs: Pick<XenbusStore, "watch">;
  clock: ToolstackClock;
  /** Re-check period without a watch event, ms. */
  fallbackMs: number;
}

/** xenstored's special path fired when a domain shuts down, is destroyed or dies. */
export const RELEASE_DOMAIN = "@releaseDomain";

/** Waits until `cond()` holds; throws ToolstackError ETIMEDOUT after `ms`, or what `cond` throws. */
export async function waitUntil(
  deps: WaitDeps,
  what: string,
  ms: number,
  cond: () => Promise<boolean>,
  paths: readonly string[] = [],
): Promise<void> {
  const end = deps.clock.now() + ms;
  let changed: boolean;
  let wake: (() => void) | undefined;
  const watches: XenbusWatch[] = [];
  const signal = (): void => {
    changed = true;
    wake?.();
  };
  try {
    for (const path of paths) {
      const w = await deps.xs.watch(path);
      watches.push(w);
      void (async () => {
        try {
          for await (const _event of w) signal();
        } catch {
          // the connection went away: the fallback period still re-checks
        }
      })();
    }
    for (;;) {
      changed = false;
      if (await cond()) return;
      const left = end - deps.clock.now();
      if (left <= 0) throw new ToolstackError("ETIMEDOUT", `timed out after ${ms} ms: ${what}`);
      if (changed) continue;
      await Promise.race([
        new Promise<void>((resolve) => (wake = resolve)),
        deps.clock.sleep(Math.min(left, deps.fallbackMs)),
      ]);
      wake = undefined;
    }
  } finally {
    for (const w of watches) await w.close().catch(() => {});
  }
}
