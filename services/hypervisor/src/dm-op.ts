// The device-model half of the hypervisor's call API (proto/xensim/hypervisor/v1/dmop.proto):
// HYPERVISOR_dm_op byte for byte, XENMEM_acquire_resource for ioreq servers, the unmap, and a listing.
// The logic is @xensim/ioreq's; the domain facts come from the hypervisor core.

import { XENMEM_resource_ioreq_server, XenErrno } from "@xensim/abi";
import type { CallServer, UnaryHandler } from "@xensim/bus";
import { type DmOpDomains, doDmOp, type IoreqServers, type Range } from "@xensim/ioreq";
import {
  type AcquireResourceRequest__Output,
  type DmOpRequest__Output,
  type IoreqServerListRequest__Output,
  loadDmOpProto,
  type ReleaseResourceRequest__Output,
} from "@xensim/proto";
import type { Hypervisor } from "@xensim/hypervisor";

export const DMOP_METHODS = ["DmOp", "AcquireResource", "ReleaseResource", "IoreqServerList"] as const;

/** dm_op's view of the domain table. */
export function dmOpDomains(hv: Hypervisor): DmOpDomains {
  return {
    exists: (d) => {
      const r = hv.record(d);
      return r !== undefined && !r.dying;
    },
    isHvm: (d) => hv.record(d)?.hvm ?? false,
    // xsm_dm_op(XSM_DM_PRIV): the control domain (no device-model stub domains here).
    mayDmOp: (caller) => hv.isPrivileged(caller),
    vcpus: (d) => hv.record(d)?.vcpus ?? 1,
  };
}

const ranges = (rs: Range[]) => rs.map((r) => ({ start: r.start.toString(), end: r.end.toString() }));

export function addDmOpService(
  server: CallServer,
  hv: Hypervisor,
  ioreq: IoreqServers,
  onCall: (method: string, rc: number) => void = () => {},
): void {
  const def = loadDmOpProto().xensim.hypervisor.v1.DmOp.service;
  const domains = dmOpDomains(hv);
  const rc = <T extends { rc: number }>(m: string, r: T): T => {
    onCall(m, r.rc);
    return r;
  };
  /** The checks of acquire_resource before the resource type's own. */
  const target = (caller: number, domid: number): number => {
    if (!domains.exists(domid)) return -XenErrno.ESRCH;
    if (!hv.isPrivileged(caller)) return -XenErrno.EPERM;
    return 0;
  };
  const impl: Record<string, UnaryHandler> = {
    DmOp: async (q: DmOpRequest__Output) => {
      const r = doDmOp(ioreq, domains, q.caller, q.domid, new Uint8Array(q.buf));
      return rc("DmOp", { rc: r.rc, buf: Buffer.from(r.buf) });
    },
    AcquireResource: async (q: AcquireResourceRequest__Output) => {
      const t = target(q.caller, q.domid);
      if (t) return rc("AcquireResource", { rc: t, frames: [] });
      if (q.type !== XENMEM_resource_ioreq_server)
        return rc("AcquireResource", { rc: -XenErrno.EOPNOTSUPP, frames: [] });
      const frame = Number(q.frame);
      return rc(
        "AcquireResource",
        ioreq.acquireResource(q.caller, q.domid, q.id, Number.isSafeInteger(frame) ? frame : -1, q.nrFrames),
      );
    },
    ReleaseResource: async (q: ReleaseResourceRequest__Output) => {
      if (q.type !== XENMEM_resource_ioreq_server) return rc("ReleaseResource", { rc: -XenErrno.EOPNOTSUPP });
      return rc("ReleaseResource", { rc: ioreq.releaseResource(q.caller, q.domid, q.id) });
    },
    IoreqServerList: async (q: IoreqServerListRequest__Output) => {
      if (!hv.isPrivileged(q.caller)) return rc("IoreqServerList", { rc: -XenErrno.EPERM, servers: [] });
      if (!hv.record(q.domid)) return rc("IoreqServerList", { rc: -XenErrno.ESRCH, servers: [] });
      return rc("IoreqServerList", {
        rc: 0,
        crashReason: ioreq.crashReason(q.domid) ?? 0,
        servers: ioreq.servers(q.domid).map((s) => ({
          id: s.id,
          emulator: s.emulator,
          handling: s.handling,
          enabled: s.enabled,
          bufioreqPort: s.bufPort,
          ports: s.ports,
          portRanges: ranges(s.ranges.port),
          memoryRanges: ranges(s.ranges.memory),
          pciRanges: ranges(s.ranges.pci),
        })),
      });
    },
  };
  server.addService(def, impl);
}
