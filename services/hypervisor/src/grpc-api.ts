// The hypervisor's call API (proto/xensim/hypervisor/v1/hypervisor.proto) over the core. Xen's
// results travel in reply fields (rc, status); a CallError only for a malformed request.

import { CallError, type CallServer, GrpcStatus, type UnaryHandler } from "@xensim/bus";
import {
  type CallerRef__Output,
  type DomainCreateRequest__Output,
  type DomainInfo,
  type DomainRef__Output,
  type DomainShutdownRequest__Output,
  type EvtchnAllocUnboundRequest__Output,
  type EvtchnBindInterdomainRequest__Output,
  type EvtchnBindIpiRequest__Output,
  type EvtchnBindVcpuRequest__Output,
  type EvtchnBindVirqRequest__Output,
  type EvtchnStatusRequest__Output,
  type GfnToFrameRequest__Output,
  type GnttabCopyRequest__Output,
  type GnttabEndAccessRequest__Output,
  type GnttabGrantAccessRequest__Output,
  type GnttabMapRequest__Output,
  type GnttabSetupTableRequest__Output,
  type GnttabUnmapRequest__Output,
  type HvmParamRequest__Output,
  loadHypervisorProto,
  type PopulatePhysmapRequest__Output,
  type PortRequest__Output,
} from "@xensim/proto";
import type { DomainInfoView, Hypervisor } from "@xensim/hypervisor";

const STATE = {
  running: "DOMAIN_STATE_RUNNING",
  paused: "DOMAIN_STATE_PAUSED",
  shutdown: "DOMAIN_STATE_SHUTDOWN",
  dying: "DOMAIN_STATE_DYING",
  dead: "DOMAIN_STATE_DEAD",
} as const;

function infoMsg(v: DomainInfoView): DomainInfo {
  return { ...v, state: STATE[v.state] };
}

/** A uint64 field (a decimal string with longs=String) as a safe integer; throws INVALID_ARGUMENT. */
function u64(v: string | number, what: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CallError(GrpcStatus.INVALID_ARGUMENT, `${what} out of range`);
  return n;
}

/** Registers the Hypervisor service on `server`; `onCall(method, rc)` sees every result. */
export function addHypervisorService(
  server: CallServer,
  hv: Hypervisor,
  onCall: (method: string, rc: number) => void = () => {},
): void {
  const def = loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
  const rc = <T extends { rc: number }>(m: string, r: T): T => {
    onCall(m, r.rc);
    return r;
  };
  const impl: Record<string, UnaryHandler> = {
    DomainCreate: async (q: DomainCreateRequest__Output) =>
      rc(
        "DomainCreate",
        hv.createDomain(q.caller, {
          domid: q.domid,
          memoryMib: q.memoryMib,
          vcpus: q.vcpus || 1,
          hvm: q.hvm,
          hvmParams: q.hvmParams.map((p) => ({ index: p.index, value: BigInt(p.value) })),
          maxGrantFrames: q.maxGrantFrames,
          maxPorts: q.maxPorts,
          homeHost: q.homeHost,
        }),
      ),
    DomainPause: async (q: DomainRef__Output) => rc("DomainPause", { rc: hv.pause(q.caller, q.domid) }),
    DomainUnpause: async (q: DomainRef__Output) => rc("DomainUnpause", { rc: hv.unpause(q.caller, q.domid) }),
    DomainShutdown: async (q: DomainShutdownRequest__Output) =>
      rc("DomainShutdown", { rc: hv.shutdown(q.caller, q.domid, q.reason) }),
    DomainDestroy: async (q: DomainRef__Output) => rc("DomainDestroy", { rc: hv.destroy(q.caller, q.domid) }),
    DomainSoftReset: async (q: DomainRef__Output) =>
      rc("DomainSoftReset", { rc: hv.softReset(q.caller, q.domid) }),
    DomainResume: async (q: DomainRef__Output) => rc("DomainResume", { rc: hv.resume(q.caller, q.domid) }),
    DomainList: async (q: CallerRef__Output) => {
      const r = hv.list(q.caller);
      return rc("DomainList", { rc: r.rc, domains: r.domains.map(infoMsg) });
    },
    DomainInfo: async (q: DomainRef__Output) => {
      const r = hv.info(q.caller, q.domid);
      return rc("DomainInfo", r.info ? { rc: r.rc, info: infoMsg(r.info) } : { rc: r.rc });
    },
    HvmParamGet: async (q: HvmParamRequest__Output) => {
      const r = hv.hvmParamGet(q.caller, q.domid, q.index);
      return rc("HvmParamGet", { rc: r.rc, value: r.value.toString() });
    },
    HvmParamSet: async (q: HvmParamRequest__Output) =>
      rc("HvmParamSet", { rc: hv.hvmParamSet(q.caller, q.domid, q.index, BigInt(q.value)) }),
    EvtchnAllocUnbound: async (q: EvtchnAllocUnboundRequest__Output) =>
      rc("EvtchnAllocUnbound", hv.evtchnAllocUnbound(q.caller, q.dom, q.remoteDom)),
    EvtchnBindInterdomain: async (q: EvtchnBindInterdomainRequest__Output) =>
      rc("EvtchnBindInterdomain", hv.evtchnBindInterdomain(q.caller, q.remoteDom, q.remotePort)),
    EvtchnBindVirq: async (q: EvtchnBindVirqRequest__Output) =>
      rc("EvtchnBindVirq", hv.evtchnBindVirq(q.caller, q.virq, q.vcpu)),
    EvtchnBindIpi: async (q: EvtchnBindIpiRequest__Output) =>
      rc("EvtchnBindIpi", hv.evtchnBindIpi(q.caller, q.vcpu)),
    EvtchnBindVcpu: async (q: EvtchnBindVcpuRequest__Output) =>
      rc("EvtchnBindVcpu", { rc: hv.evtchnBindVcpu(q.caller, q.port, q.vcpu) }),
    EvtchnSend: async (q: PortRequest__Output) => rc("EvtchnSend", { rc: hv.evtchnSend(q.caller, q.port) }),
    EvtchnClose: async (q: PortRequest__Output) =>
      rc("EvtchnClose", { rc: hv.evtchnClose(q.caller, q.port) }),
    EvtchnUnmask: async (q: PortRequest__Output) =>
      rc("EvtchnUnmask", { rc: hv.evtchnUnmask(q.caller, q.port) }),
    EvtchnStatus: async (q: EvtchnStatusRequest__Output) => {
      const s = hv.evtchnStatus(q.caller, q.dom, q.port);
      return rc("EvtchnStatus", {
        rc: s.rc,
        status: s.status,
        vcpu: s.vcpu,
        dom: s.dom ?? 0,
        port: s.port ?? 0,
        virq: s.virq ?? 0,
      });
    },
    EvtchnReset: async (q: DomainRef__Output) => rc("EvtchnReset", { rc: hv.evtchnReset(q.caller, q.domid) }),
    GnttabSetupTable: async (q: GnttabSetupTableRequest__Output) => {
      const r = hv.gnttabSetupTable(q.caller, q.dom, q.nrFrames);
      onCall("GnttabSetupTable", r.status);
      return r;
    },
    GnttabQuerySize: async (q: DomainRef__Output) => {
      const r = hv.gnttabQuerySize(q.caller, q.domid);
      onCall("GnttabQuerySize", r.status);
      return r;
    },
    GnttabMapGrantRef: async (q: GnttabMapRequest__Output) => {
      const results = q.ops.map((op) => {
        const r = hv.gnttabMap(q.caller, {
          dom: op.dom,
          ref: op.ref,
          flags: op.flags,
          hostAddr: u64(op.hostAddr, "host_addr"),
        });
        onCall("GnttabMapGrantRef", r.status);
        return {
          status: r.status,
          handle: Math.max(r.handle, 0),
          frame: r.frame,
          devBusAddr: String(r.devBusAddr),
        };
      });
      return { results };
    },
    GnttabUnmapGrantRef: async (q: GnttabUnmapRequest__Output) => ({
      status: q.ops.map((op) => {
        const host = u64(op.hostAddr, "host_addr");
        const dev = u64(op.devBusAddr, "dev_bus_addr");
        const st = hv.gnttabUnmap(q.caller, {
          handle: op.handle,
          ...(host ? { hostAddr: host } : {}),
          ...(dev ? { devBusAddr: dev } : {}),
        });
        onCall("GnttabUnmapGrantRef", st);
        return st;
      }),
    }),
    GnttabCopy: async (q: GnttabCopyRequest__Output) => ({
      status: q.ops.map((op) => {
        if (!op.source || !op.dest)
          throw new CallError(GrpcStatus.INVALID_ARGUMENT, "copy op without source/dest");
        const st = hv.gnttabCopy(q.caller, {
          source: {
            ref: op.source.ref,
            gmfn: u64(op.source.gmfn, "gmfn"),
            domid: op.source.domid,
            offset: op.source.offset,
          },
          dest: {
            ref: op.dest.ref,
            gmfn: u64(op.dest.gmfn, "gmfn"),
            domid: op.dest.domid,
            offset: op.dest.offset,
          },
          len: op.len,
          flags: op.flags,
        });
        onCall("GnttabCopy", st);
        return st;
      }),
    }),
    GnttabGrantAccess: async (q: GnttabGrantAccessRequest__Output) =>
      rc("GnttabGrantAccess", {
        rc: hv.gnttabGrantAccess(q.caller, q.ref, q.domid, u64(q.gfn, "gfn"), q.readonly),
      }),
    GnttabEndForeignAccess: async (q: GnttabEndAccessRequest__Output) =>
      rc("GnttabEndForeignAccess", hv.gnttabEndForeignAccess(q.caller, q.ref)),
    MemoryPopulatePhysmap: async (q: PopulatePhysmapRequest__Output) =>
      rc(
        "MemoryPopulatePhysmap",
        hv.populatePhysmap(q.caller, q.domid, u64(q.gfn, "gfn"), q.count, q.contiguous),
      ),
    MemoryGfnToFrame: async (q: GfnToFrameRequest__Output) =>
      rc(
        "MemoryGfnToFrame",
        hv.gfnToFrame(
          q.caller,
          q.domid,
          q.gfns.map((g) => u64(g, "gfn")),
        ),
      ),
  };
  server.addService(def, impl);
}
