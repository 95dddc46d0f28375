// Who may foreign-map what (privcmd's xenforeignmemory_map and _map_resource as Xen's XSM decides
// them), by the service of the mapper's host that asks (docs/data-plane.md, "Foreign mappings: who
// may map"). The hypervisor's host applies it to every vouched-for request, after privcmd's own
// check (a privileged caller the peer acts for).
//
// - the toolstack (libxl builds and saves guests), the hypervisor and xenstored (dom0's C xenstored
//   maps a guest's store page) may map any domain's RAM and resources: dom0's default policy;
// - a device model may acquire the ioreq-server pages of a domain (acquire_resource checks that it is
//   the server's emulator) and map the RAM of a domain whose ioreq-server pages its host holds for
//   that same device model — its own guest, as a stub domain's XSM target is (IS_PRIV_FOR);
// - a backend (blkback, displback) and anything else: grants only — no guest RAM, no ioreq pages;
//   the granter's grant table read-only (a replica for local grant checks, entries it could read
//   through the authority's answers anyway).
import { XENMEM_resource_grant_table, XENMEM_resource_ioreq_server, XenErrno } from "@xensim/abi";
import type { ForeignMapRequest } from "./requests.js";

export type ForeignMapRole = "control" | "device-model" | "grants";

const CONTROL = new Set(["toolstack", "hypervisor", "xenstored"]);

/** The role of a service name (a further instance, `device-model-2`, is its service's). */
export function foreignMapRole(service: string): ForeignMapRole {
  const m = /^(.+)-([2-9]|[1-9]\d+)$/.exec(service);
  const kind = m && (CONTROL.has(m[1]!) || m[1] === "device-model") ? m[1]! : service;
  if (CONTROL.has(kind)) return "control";
  if (kind === "device-model") return "device-model";
  return "grants";
}

/**
 * 0 when `role` may make the foreign map `q`, else -EPERM (privcmd's errno for a map XSM denies).
 * `ownsEmulatorOf(dom)`: the mapper's host holds `dom`'s ioreq-server pages for this same service.
 */
export function foreignMapRight(
  role: ForeignMapRole,
  q: ForeignMapRequest,
  ownsEmulatorOf: (dom: number) => boolean,
): number {
  if (role === "control") return 0;
  const EPERM = -XenErrno.EPERM;
  if (q.resource?.type === XENMEM_resource_grant_table) return q.readonly ? 0 : EPERM;
  if (role === "grants") return EPERM;
  if (q.resource) return q.resource.type === XENMEM_resource_ioreq_server ? 0 : EPERM;
  return ownsEmulatorOf(q.dom) ? 0 : EPERM;
}
