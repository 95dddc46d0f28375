// A failed run that is the fault's own, expected consequence rather than a defect of the stack under
// test: the fault broke a guarantee every Xen stack relies on, so no correct driver could have
// survived it. Such a run is neither a pass nor a failure: its verdict says so, with the evidence.
//
// The one case known: xenstore.watch-lost dropping the event xenstored fires once when a watch is
// registered (C xenstored's do_watch: "we fire once up front: simplifies clients and restart"). A
// xenbus driver learns the other end's state from that event alone: Linux's xenbus_dev_probe calls
// drv->probe and then watch_otherend, and otherend_changed (which reads the other end's `state`) runs
// on watch events only. So a backend probed again (our blkback restarted, taking over a connected
// device) whose first event on the frontend's `state` is lost stays in InitWait, and the frontend,
// Connected, waits for its answers for ever: the disk never moves again. The probe watch's own first
// event is not needed (xenbus_probe_devices enumerates the directory, as our XenbusProbe.scanAll
// does), so its loss is survived and not classified.

import type { CheckResult } from "./checkers.js";
import type { FaultHit } from "./points.js";

/** Appended by xenstored to a watch fault's target when the event was XS_WATCH's registration fire. */
export const WATCH_FIRST_EVENT = "(XS_WATCH's first event)";

export interface FaultConsequence {
  /** The fault kind whose consequence this is. */
  kind: string;
  /** Why no Xen stack survives it, in Xen's terms. */
  reason: string;
  /** The failed checks it explains. */
  checks: string[];
  /** The fault hits that caused it. */
  evidence: FaultHit[];
}

const OTHEREND_STATE_FIRST = new RegExp(`/state ${escapeRegExp(WATCH_FIRST_EVENT)}$`);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The failed checks of a run explained as the fault's expected consequence, or undefined (a real
 * failure, or nothing failed). Only a frozen disk is explained: liveness failed, and the ledger at
 * most in that no ledger came (a lost acknowledged write is never explained away); every other
 * check passed.
 */
export function classifyFaultConsequence(
  checks: readonly CheckResult[],
  hits: readonly FaultHit[],
): FaultConsequence | undefined {
  const failed = checks.filter((c) => !c.pass);
  if (failed.length === 0) return undefined;
  if (!failed.some((c) => c.name === "liveness")) return undefined;
  for (const c of failed) {
    if (c.name === "liveness") continue;
    if (c.name === "ledger" && c.evidence.length === 0) continue; // no ledger: the job never ended
    return undefined;
  }
  const lostFirst = hits.filter(
    (h) => h.kind === "xenstore.watch-lost" && OTHEREND_STATE_FIRST.test(h.target),
  );
  if (lostFirst.length === 0) return undefined;
  return {
    kind: "xenstore.watch-lost",
    reason:
      "the event xenstored fires once when a watch on the other end's state is registered was lost: " +
      "a xenbus driver reads the other end's state only on watch events (Linux xenbus_dev_probe: " +
      "probe, then watch_otherend; otherend_changed on events), so the re-probed end never saw the " +
      "other's state and the device never connected again; no Xen stack survives this loss",
    checks: failed.map((c) => c.name),
    evidence: lostFirst,
  };
}
