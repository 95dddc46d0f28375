// VIRQ_DOM_EXC as an event body: what the hypervisor tells the rest of the host when a domain shuts
// down, dies or is soft-reset (xenstored fires @releaseDomain from it).

/** Body of `hypervisor.domain.<domid>.exc` (JSON on the bus). */
export interface DomainExcEvent {
  domid: number;
  /**
   * What the domain became. "soft_reset": XEN_DOMCTL_soft_reset done — same domid and memory, its
   * event channels closed, its shutdown cleared, still paused; not a death (xenstored keeps it).
   */
  state: "shutdown" | "soft_reset" | "dying" | "dead";
  /** SHUTDOWN_* for a shutdown (kept when it then dies), -1 when there was none. */
  reason: number;
}
