// @xensim/subjects: every NATS subject xensim uses, named in one place (DESIGN: services meet through
// proto/ contracts, NATS subjects named in one place, and shared memory). Subjects are built only
// here; the packages that publish, subscribe or grant permissions import them. A protocol package:
// strings only, no I/O.

/** A host or service name as one subject token ('.', '*', '>' and blanks become '_'). */
export function subjectToken(s: string): string {
  return s.replace(/[.*>\s]/g, "_") || "_";
}

/**
 * The hypervisor's VIRQ_DOM_EXC as an event: a domain shut down, was destroyed (dying) or finally
 * died; also a soft reset done (state "soft_reset", published without the VIRQ). JSON DomainExcEvent.
 */
export const HYPERVISOR_SUBJECTS = Object.freeze({
  domainExc: (domid: number): string => `hypervisor.domain.${domid}.exc`,
  /** Every domain's exception events (for a subscription). */
  domainExcAll: "hypervisor.domain.*.exc",
});

/** The guest runtime: JSON GuestStatus of each guest, every status interval and on changes. */
export const GUEST_SUBJECTS = Object.freeze({
  status: (domid: number): string => `guest.${domid}.status`,
  statusAll: "guest.*.status",
});

/** xenstored's watch events for gRPC sessions: each on its owner's subject only. */
export const XENSTORE_SUBJECTS = Object.freeze({
  watchPrefix: "xenstore.watch.",
  /** The events of session `sessionId`, owned by the identity token `owner` (none: insecure mode). */
  watch: (sessionId: string, owner?: string): string =>
    `xenstore.watch.${owner !== undefined ? `${owner}.` : ""}${sessionId}`,
  /** Every session of one owner (a permission). */
  watchOwner: (owner: string): string => `xenstore.watch.${owner}.>`,
  watchAll: "xenstore.watch.>",
});

/** Fault control of the bus fault hooks (@xensim/bus control): "xensim.fault.<op>.<target>". */
export const FAULT_SUBJECTS = Object.freeze({
  prefix: "xensim.fault",
  /** Target that every fault-control server answers to. */
  targetAll: "all",
  /** A target's faults are switched here. */
  set: (target: string): string => `xensim.fault.set.${target}`,
  records: (target: string): string => `xensim.fault.records.${target}`,
  /** Every fault-control server answers a request here with its FaultStatus. */
  status: "xensim.fault.status",
  /** A private reply subject for a gather (`scope`: something unique to the asker). */
  inbox: (scope: string): string => `xensim.fault.inbox.${scope}`,
  all: "xensim.fault.>",
  inboxAll: "xensim.fault.inbox.>",
});

/**
 * The chaos plane (@xensim/chaos): a service's fault points and host processes' workers. Control
 * traffic is never subject to the faults it sets: the bus sends everything under xensim.fault.>
 * and xensim.chaos.> (and control replies) past its fault stage.
 */
export const CHAOS_SUBJECTS = Object.freeze({
  prefix: "xensim.chaos",
  /** Request: a ChaosCommand to one service's fault points. */
  service: (service: string): string => `xensim.chaos.svc.${service}`,
  /** Request: a HostChaosCommand to a host process (kill, restart, pause, resume a worker). */
  host: (hostId: string): string => `xensim.chaos.host.${hostId}`,
  /** Every host process answers a HostChaosCommand {op: "list"} here. */
  hosts: "xensim.chaos.hosts",
  /**
   * Event from a host process: one of its workers exited ({service, thread}: its worker_threads
   * threadId), killed, crashed or stopped. What a server kept for that thread's in-process calls
   * (xenstored's sessions and their watches) goes at once, as with a dead process's closed socket.
   */
  workerExited: (hostId: string): string => `xensim.chaos.exited.${hostId}`,
  inbox: (scope: string): string => `xensim.chaos.inbox.${scope}`,
  all: "xensim.chaos.>",
  inboxAll: "xensim.chaos.inbox.>",
});

/**
 * The link's control plane (the link itself is a framed stream between page-servers; these only
 * find a peer and switch its fault hooks).
 */
export const LINK_SUBJECTS = Object.freeze({
  /** Request → reply {tcp, unix, epoch}: where host `hostId`'s link listens. */
  address: (hostId: string): string => `link.${hostId}.address`,
  /** Request {rules | null} → {ok}: switch the link fault hooks of host `hostId`'s page-server. */
  faults: (hostId: string): string => `xensim.link.faults.${hostId}`,
  /** Request → {seed, peers: {host: {counts}}}: the faults injected so far. */
  faultRecords: (hostId: string): string => `xensim.link.faultrecords.${hostId}`,
  /** What a page-server publishes (address answers and requests to other hosts). */
  all: "link.>",
  /** The prefixes of the two fault subjects (permissions append a host or '>'). */
  faultPrefixes: Object.freeze(["xensim.link.faults", "xensim.link.faultrecords"]),
});

/** Every service answers a scrape with its metrics as JSON (@xensim/runtime bus-metrics). */
export const METRICS_SUBJECTS = Object.freeze({
  scrape: "xensim.metrics.scrape",
  inbox: (scope: string): string => `xensim.metrics.inbox.${scope}`,
  inboxAll: "xensim.metrics.inbox.>",
});

/**
 * Protocol traces (@xensim/trace): listeners' TraceControl requests to every service, and each
 * service's event batches on `xensim.trace.events.<host>.<svc>`.
 */
export const TRACE_SUBJECTS = Object.freeze({
  control: "xensim.trace.control",
  events: (host: string, svc: string): string =>
    `xensim.trace.events.${subjectToken(host)}.${subjectToken(svc)}`,
  eventsAll: "xensim.trace.events.>",
});
