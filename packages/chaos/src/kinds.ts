// The catalogue of fault kinds: one name per fault a user looks for, where it is injected, and what
// parameters it takes. The toolstack's chaos API, the CLI and scenario files all go by this table.
import { GntSt, GNTST_general_error, GNTST_okay } from "@xensim/abi";

/** How a kind reaches its fault point. */
export type FaultPlane =
  /** A fault point inside a service (xensim.chaos.set.<service>). */
  | "point"
  /** The service's event-bus or call adapter rules (xensim.fault.set.<service>). */
  | "bus"
  /** The host process running the service's worker (kill, restart, pause). */
  | "host"
  /** The hypervisor, on a domain (pause). */
  | "domain"
  /** The data-plane link between host processes: a page-server's frame fault hooks (xensim.link.faults.<host>). */
  | "link"
  /** A compose deployment's container (Docker's API on the toolstack's docker socket); `service` names the compose service. */
  | "container";

export interface FaultKindInfo {
  readonly kind: string;
  readonly plane: FaultPlane;
  /** The service the fault is aimed at when the request names none. */
  readonly defaultService?: string;
  readonly description: string;
  /** Parameters it reads (besides probability, seed, count). */
  readonly params: readonly (
    "delayMs" | "code" | "periodMs" | "subject" | "method" | "domain" | "host" | "peer"
  )[];
  /** True for a one-shot action (kill, restart) rather than a condition that lasts until healed. */
  readonly oneShot?: boolean;
}

const K = (x: FaultKindInfo): FaultKindInfo => x;

/** Every fault kind, by name. */
export const FAULT_KINDS: readonly FaultKindInfo[] = [
  // event channels (the sender's XenCtrl: guest for frontends, blkback for backends)
  K({
    kind: "evtchn.lost",
    plane: "point",
    defaultService: "guest",
    description:
      "an event-channel notification's upcall is lost (the pending bit stays set: Xen's event channels are level-triggered); across host processes the send itself",
    params: [],
  }),
  K({
    kind: "evtchn.duplicated",
    plane: "point",
    defaultService: "guest",
    description: "an EVTCHNOP_send is delivered twice",
    params: [],
  }),
  K({
    kind: "evtchn.delayed",
    plane: "point",
    defaultService: "guest",
    description: "an EVTCHNOP_send reaches the receiver delayMs late",
    params: ["delayMs"],
  }),
  K({
    kind: "evtchn.spurious",
    plane: "point",
    defaultService: "guest",
    description: "spurious notifications every periodMs on the ports the service sends on",
    params: ["periodMs"],
  }),
  // grant tables (the mapper's XenCtrl: blkback maps the guest's grants)
  K({
    kind: "grant.map-failed",
    plane: "point",
    defaultService: "blkback",
    description: "GNTTABOP_map_grant_ref fails with the chosen GNTST_* code (default GNTST_general_error)",
    params: ["code"],
  }),
  K({
    kind: "grant.map-slow",
    plane: "point",
    defaultService: "blkback",
    description: "GNTTABOP_map_grant_ref takes delayMs longer",
    params: ["delayMs"],
  }),
  K({
    kind: "grant.copy-failed",
    plane: "point",
    defaultService: "blkback",
    description: "GNTTABOP_copy fails with the chosen GNTST_* code (default GNTST_general_error)",
    params: ["code"],
  }),
  // xenstore (xenstored)
  K({
    kind: "xenstore.eagain",
    plane: "point",
    defaultService: "xenstored",
    description: "XS_TRANSACTION_END commit fails with EAGAIN (an EAGAIN storm at probability 1)",
    params: [],
  }),
  K({
    kind: "xenstore.request-delayed",
    plane: "point",
    defaultService: "xenstored",
    description:
      "xenstored reads a connection's next request delayMs late (socket paused, ring unconsumed); the requests behind it wait in order",
    params: ["delayMs"],
  }),
  K({
    kind: "xenstore.conflict-check-skipped",
    plane: "point",
    defaultService: "xenstored",
    description:
      "a broken xenstored: XS_TRANSACTION_END commits without its conflict check (lost updates; the serializability check must catch it)",
    params: [],
  }),
  K({
    kind: "xenstore.watch-lost",
    plane: "point",
    defaultService: "xenstored",
    description: "a watch event is not sent",
    params: [],
  }),
  K({
    kind: "xenstore.watch-duplicated",
    plane: "point",
    defaultService: "xenstored",
    description: "a watch event is sent twice",
    params: [],
  }),
  K({
    kind: "xenstore.watch-delayed",
    plane: "point",
    defaultService: "xenstored",
    description: "a watch event is sent delayMs late",
    params: ["delayMs"],
  }),
  // storage behind blkback
  K({
    kind: "store.io-error",
    plane: "point",
    defaultService: "blkback",
    description: "a store I/O fails with EIO (BLKIF_RSP_ERROR to the guest)",
    params: [],
  }),
  K({
    kind: "store.latency",
    plane: "point",
    defaultService: "blkback",
    description: "a store I/O takes delayMs longer",
    params: ["delayMs"],
  }),
  K({
    kind: "store.torn-write",
    plane: "point",
    defaultService: "blkback",
    description: "a write reaches the store only in part (a prefix of its sectors), then fails with EIO",
    params: [],
  }),
  K({
    kind: "store.full",
    plane: "point",
    defaultService: "blkback",
    description: "the device is full: writes fail with EIO, reads still work",
    params: [],
  }),
  // a misbehaving backend (for the checkers)
  K({
    kind: "backend.response-duplicated",
    plane: "point",
    defaultService: "blkback",
    description: "a misbehaving backend answers a request twice (two responses with one id)",
    params: [],
  }),
  K({
    kind: "backend.ack-before-write",
    plane: "point",
    defaultService: "blkback",
    description: "a misbehaving backend acknowledges a write (BLKIF_RSP_OKAY) without writing it",
    params: [],
  }),
  K({
    kind: "backend.requests-reordered",
    plane: "point",
    defaultService: "blkback",
    description:
      "the backend starts a request after the next one (in-flight requests complete out of order; the frontend matches by id)",
    params: [],
  }),
  K({
    kind: "blkback.queue-thread-killed",
    plane: "point",
    defaultService: "blkback",
    description:
      "a blkback queue thread (queueThreads: Linux's kthread per ring) dies between two tasks with I/O in flight, the service lives: its grant maps are released at once and the vbd fails (an error node, Closing) until the frontend reconnects",
    params: [],
  }),
  // misbehaving peers on the shared ring
  K({
    kind: "ring.request-corrupted",
    plane: "point",
    defaultService: "guest",
    description:
      "a misbehaving frontend writes garbage into a request slot (nr_segments 255): the backend must answer BLKIF_RSP_ERROR, not crash",
    params: [],
  }),
  K({
    kind: "ring.response-corrupted",
    plane: "point",
    defaultService: "blkback",
    description:
      "a misbehaving backend writes garbage into a response slot's status: the frontend must take it as an I/O error, not crash",
    params: [],
  }),
  K({
    kind: "clock.skewed",
    plane: "point",
    defaultService: "xenstored",
    description:
      "a service's wall clock runs delayMs ahead while set (xenstored: queued watch events age; toolstack: start times)",
    params: ["delayMs"],
  }),
  // the event bus and the call adapters of a service
  K({
    kind: "bus.event-lost",
    plane: "bus",
    defaultService: "guest",
    description: "events the service publishes on `subject` (default >) are dropped",
    params: ["subject"],
  }),
  K({
    kind: "bus.event-duplicated",
    plane: "bus",
    defaultService: "guest",
    description: "events the service publishes on `subject` are delivered twice",
    params: ["subject"],
  }),
  K({
    kind: "bus.event-delayed",
    plane: "bus",
    defaultService: "guest",
    description: "events the service publishes on `subject` leave delayMs late",
    params: ["subject", "delayMs"],
  }),
  K({
    kind: "call.delayed",
    plane: "bus",
    defaultService: "hypervisor",
    description: "calls (gRPC / in-process) served by the service matching `method` get delayMs latency",
    params: ["method", "delayMs"],
  }),
  K({
    kind: "call.failed",
    plane: "bus",
    defaultService: "hypervisor",
    description:
      "calls served by the service matching `method` fail with gRPC status `code` (default 14 UNAVAILABLE)",
    params: ["method", "code"],
  }),
  // services as processes
  K({
    kind: "service.killed",
    plane: "host",
    description: "the service's worker crashes (no stop hook) and the host starts it again",
    params: [],
    oneShot: true,
  }),
  K({
    kind: "service.restarted",
    plane: "host",
    description: "the service is stopped cleanly and started again",
    params: [],
    oneShot: true,
  }),
  K({
    kind: "service.paused",
    plane: "host",
    description: "the service's worker is frozen (SIGSTOP-like: its thread blocks) until healed",
    params: [],
  }),
  K({
    kind: "xenstored.restarted",
    plane: "host",
    defaultService: "xenstored",
    description: "xenstored is stopped and started again (state from its snapshot and journal)",
    params: [],
    oneShot: true,
  }),
  // the data-plane link between host processes (page replication, grant ops, routed events): the
  // sending page-server's DATA frames; `host` is the sending host process (default: every one that
  // runs a page-server), `peer` the receiving one (default: all). The link must recover (its
  // acknowledgements, retransmission and epochs) without losing an acknowledged write.
  K({
    kind: "link.replication-dropped",
    plane: "link",
    defaultService: "page-server",
    description:
      "DATA frames (page replication, grant ops, events) from a host process are dropped on the link",
    params: ["host", "peer"],
  }),
  K({
    kind: "link.replication-duplicated",
    plane: "link",
    defaultService: "page-server",
    description: "DATA frames from a host process are sent twice on the link",
    params: ["host", "peer"],
  }),
  K({
    kind: "link.replication-delayed",
    plane: "link",
    defaultService: "page-server",
    description: "the link stream from a host process stalls: a frame and every later one wait delayMs",
    params: ["host", "peer", "delayMs"],
  }),
  K({
    kind: "link.partition",
    plane: "link",
    defaultService: "page-server",
    description: "the link from a host process carries no DATA frame until healed (then it retransmits)",
    params: ["host", "peer"],
  }),
  // containers of a compose deployment, through Docker's API (the toolstack's chaos.docker socket):
  // `service` is the compose service (host-a, xenstored, blkback, nats, ...), not a xensim service
  K({
    kind: "container.killed",
    plane: "container",
    description:
      "the compose service's container gets SIGKILL (its host process dies with no stop hook); its restart policy starts it again",
    params: [],
    oneShot: true,
  }),
  K({
    kind: "container.paused",
    plane: "container",
    description: "the compose service's container is frozen (docker pause: the cgroup freezer) until healed",
    params: [],
  }),
  K({
    kind: "container.restarted",
    plane: "container",
    description:
      "the compose service's container is stopped (SIGTERM, then SIGKILL after 10 s) and started again",
    params: [],
    oneShot: true,
  }),
  K({
    kind: "container.network-disconnected",
    plane: "container",
    description:
      "the compose service's container is disconnected from the compose network until healed (then reconnected with its aliases)",
    params: [],
  }),
  // domains
  K({
    kind: "domain.paused",
    plane: "domain",
    defaultService: "hypervisor",
    description: "a domain is paused (XEN_DOMCTL_pausedomain) mid-I/O until healed",
    params: ["domain"],
  }),
];

const BY_NAME = new Map(FAULT_KINDS.map((k) => [k.kind, k]));

export function faultKind(name: string): FaultKindInfo | undefined {
  return BY_NAME.get(name);
}

/** The kind, or an error that lists the known ones. */
export function requireFaultKind(name: string): FaultKindInfo {
  const k = BY_NAME.get(name);
  if (!k)
    throw new Error(
      `unknown fault kind '${name}'; known kinds: ${FAULT_KINDS.map((x) => x.kind).join(", ")}`,
    );
  return k;
}

/** A GNTST code from a number or a name ("GNTST_bad_gntref" or "bad_gntref"). */
export function gntstCode(v: number | string | undefined): number {
  if (v === undefined) return GNTST_general_error;
  if (typeof v === "number") {
    if (Number.isInteger(v) && v < 0 && v >= -13) return v;
    throw new Error(`grant status ${v}: expected a GNTST_* code from -1 to -13`);
  }
  const c = (GntSt as Readonly<Record<string, number>>)[v.replace(/^GNTST_/, "")];
  if (c === undefined || c === GNTST_okay)
    throw new Error(
      `grant status '${v}': expected one of ${Object.entries(GntSt)
        .filter(([, code]) => code !== GNTST_okay)
        .map(([name]) => `GNTST_${name}`)
        .join(", ")}`,
    );
  return c;
}
