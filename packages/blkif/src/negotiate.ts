// What the two ends agree on, computed as Linux does (blkfront chooses, capped by what blkback offers).

import {
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_SEGS_PER_INDIRECT_FRAME,
} from "@xensim/abi";

/** Ring page order: min(backend `max-ring-page-order` (absent = 0), frontend's own maximum). */
export function negotiateRingPageOrder(backendMax: number, frontendMax: number): number {
  return Math.max(0, Math.min(backendMax, frontendMax));
}

/** Queue count: min(backend `multi-queue-max-queues` (absent = 1), frontend's maximum), at least 1. */
export function negotiateQueues(backendMax: number, frontendMax: number): number {
  return Math.max(1, Math.min(backendMax, frontendMax));
}

/** Persistent grants are used only when both ends write `feature-persistent` = 1. */
export function negotiatePersistent(backend: boolean, frontend: boolean): boolean {
  return backend && frontend;
}

/**
 * Indirect segments per request, as blkfront: min(backend `feature-max-indirect-segments` (absent
 * = 0), frontend's maximum), capped by the 8 indirect pages; 0 (no indirect requests) unless the
 * result is above BLKIF_MAX_SEGMENTS_PER_REQUEST.
 */
export function negotiateIndirectSegments(backendMax: number, frontendMax: number): number {
  const n = Math.min(
    backendMax,
    frontendMax,
    BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME,
  );
  return n > BLKIF_MAX_SEGMENTS_PER_REQUEST ? n : 0;
}
