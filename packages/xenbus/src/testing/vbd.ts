// Test support: the toolstack's part of a vbd (xen-protocols §2.4): both directories with state 1,
// the cross links and ids, written in one transaction.
import type { XenbusStore } from "../store.js";
import { backendPath, frontendPath } from "../paths.js";

export interface VbdPaths {
  front: string;
  back: string;
}

export async function createVbd(
  xs: XenbusStore,
  backDom: number,
  frontDom: number,
  devid: number | string,
  opts: { type?: string; state?: number; omit?: readonly string[] } = {},
): Promise<VbdPaths> {
  const type = opts.type ?? "vbd";
  const state = String(opts.state ?? 1);
  const front = frontendPath(frontDom, type, devid);
  const back = backendPath(backDom, type, frontDom, devid);
  const omit = new Set(opts.omit ?? []);
  await xs.transaction(async (tx) => {
    const keys: [string, string][] = [
      [`${front}/state`, state],
      [`${front}/backend`, back],
      [`${front}/backend-id`, String(backDom)],
      [`${front}/virtual-device`, String(devid)],
      [`${back}/state`, state],
      [`${back}/frontend`, front],
      [`${back}/frontend-id`, String(frontDom)],
      [`${back}/online`, "1"],
    ];
    for (const [k, v] of keys) if (!omit.has(k.slice(k.lastIndexOf("/") + 1))) await tx.write(k, v);
  });
  return { front, back };
}
