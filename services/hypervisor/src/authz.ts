// Who may make which hypercall through the call API: the request's `caller` (the domain a call acts
// for, Xen's `current->domain`) must be one the authenticated peer may act as. dom0's services and
// the admin client act as the domain their certificate names (0); the guest runtime of a host acts
// only for the unprivileged domains homed on that host. Xen's own checks (privileged or self, the
// grant and event-channel rules) then run on that caller as before. A call without an identity came
// over a transport without credentials (in-process from the host's own thread, insecure gRPC).
// HYPERVISOR_dm_op and the ioreq servers' pages (the DmOp service) are the device model's: of dom0's
// identities only a device-model instance and the admin client may make them (another dom0 service
// doing so is doing another's work); a domain's own identity reaches Xen's checks, which refuse it as
// xsm_dm_op(XSM_DM_PRIV) does (-EPERM: neither the control domain nor the target's device-model
// domain).
import type { CallPolicy } from "@xensim/bus";
import { describeIdentity, hostMatches, serviceKind } from "@xensim/security";
import { DMOP_METHODS } from "./dm-op.js";

const DMOP = new Set<string>(DMOP_METHODS);

export interface HypervisorPolicyDeps {
  /** This hypervisor's host id (a domain with no recorded home lives here). */
  hostId: string;
  /** A domain's home host and privilege, or undefined when there is no such domain. */
  domain(domid: number): { homeHost: string; privileged: boolean } | undefined;
}

export function hypervisorPolicy(d: HypervisorPolicyDeps): CallPolicy {
  return (method, req, ctx) => {
    const id = ctx.identity;
    if (id === undefined) return undefined;
    const raw = (req as { caller?: unknown } | null)?.caller;
    const caller = typeof raw === "number" ? raw : 0;
    if (id.domid !== undefined) {
      if (caller !== id.domid)
        return `${describeIdentity(id)} may act only as domain ${id.domid}, not as caller ${caller}`;
      if (
        DMOP.has(method) &&
        id.domid === 0 &&
        id.kind === "service" &&
        serviceKind(id.name) !== "device-model"
      )
        return `${describeIdentity(id)} may not call ${method}: dm_op is the device model's`;
      return undefined;
    }
    if (id.kind === "service" && id.name === "guest") {
      const dom = d.domain(caller);
      // no such domain: Xen's own checks answer (-ESRCH, -EPERM); nothing of anyone's is reachable
      if (dom === undefined) return undefined;
      if (dom.privileged) return `the guest runtime may not act as privileged domain ${caller}`;
      const home = dom.homeHost === "" ? d.hostId : dom.homeHost;
      if (!hostMatches(id.host, home))
        return `domain ${caller} is homed on ${home}, not on ${id.host} (${describeIdentity(id)})`;
      return undefined;
    }
    return `${describeIdentity(id)} may not call ${method}`;
  };
}
