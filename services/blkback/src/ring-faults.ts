// The chaos fault points a blkif ring consults itself (not through its store): one definition for the
// service's thread and for its queue threads, so a fault set on blkback reaches every ring.
import type { ChaosPoints } from "@xensim/chaos";

/** ring.response-corrupted: garbage in the status of a response slot. */
export function corruptResponsePoint(chaos: ChaosPoints): () => boolean {
  const p = chaos.point("ring.response-corrupted");
  return () => p.active && p.hit("response slot");
}

/** backend.response-duplicated: a response written twice (same id), while another request is in flight. */
export function duplicateResponsePoint(chaos: ChaosPoints): (target: string) => boolean {
  const p = chaos.point("backend.response-duplicated");
  return (target) => p.active && p.hit(target);
}
