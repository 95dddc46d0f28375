// Who may make which hypercall through the call API: the request's `caller` (the domain a call acts
// for, Xen's `current->domain`) must be one the authenticated peer may act as. dom0's services and
// the admin client act as the domain their certificate names (0); the guest runtime of a host acts
// only for the unprivileged domains homed on that host. Xen's own checks (privileged or self, the
// grant and event-channel rules) then run on that caller as before. A call without an identity came
// over a transport without credentials (in-process from the host's own thread, insecure gRPC).
import type { CallPolicy } from "@xensim/bus";
import { describeIdentity, hostMatches } from "@xensim/security";

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
      if (caller === id.domid) return undefined;
      return `${describeIdentity(id)} may act only as domain ${id.domid}, not as caller ${caller}`;
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
