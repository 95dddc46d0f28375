// Test-only: ring views from a PageStore, adjacent (ContiguousView) or scattered (PagedView).

import { DOMID_XEN } from "@xensim/abi";
import { type MemView, PageStore, type WriteLog } from "@xensim/memory";
import { REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD, sharedRingInit } from "../sring.js";

export type ViewKind = "contiguous" | "paged";

/** A fresh store with one ring view of `pages` frames. */
export function ringView(pages: number, kind: ViewKind, writeLog?: WriteLog): MemView {
  const store = PageStore.create({ frames: 2 * pages + 64, ...(writeLog ? { writeLog } : {}) });
  if (kind === "contiguous") return store.viewOfFrames(store.allocFrames(DOMID_XEN, pages, true)!);
  // Every other frame of a run, in descending order: never adjacent. (One frame is always a
  // ContiguousView: ask for two or more pages to get a PagedView.)
  const run = store.allocFrames(DOMID_XEN, 2 * pages, true)!;
  const frames = run.filter((_, i) => i % 2 === 1).reverse();
  const v = store.viewOfFrames(frames);
  if (pages > 1 && v.contiguous) throw new Error("expected a paged view");
  return v;
}

/** SHARED_RING_INIT, then every index moved to `start` (events start+1), as after `start` requests. */
export function initAt(view: MemView, start: number): void {
  sharedRingInit(view);
  view.atomicStore32(REQ_PROD, start >>> 0);
  view.atomicStore32(RSP_PROD, start >>> 0);
  view.atomicStore32(REQ_EVENT, (start + 1) >>> 0);
  view.atomicStore32(RSP_EVENT, (start + 1) >>> 0);
}
