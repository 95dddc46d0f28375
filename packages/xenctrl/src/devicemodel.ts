// XenDeviceModel: libxendevicemodel + the ioreq part of libxenforeignmemory for an emulator — dm_op
// (the xen_dm_op bytes travel as they are), acquire/release of an ioreq server's pages, and a listing
// of a domain's servers. Calls go to the hypervisor's DmOp service (proto/xensim/hypervisor/v1/dmop.proto).

import { XENMEM_resource_ioreq_server } from "@xensim/abi";
import type { CallClient } from "@xensim/bus";
import type {
  AcquireResourceReply__Output,
  DmOpRcReply__Output,
  DmOpReply__Output,
  IoreqServerListReply__Output,
} from "@xensim/proto";

export interface IoreqServerListing {
  rc: number;
  crashReason: number;
  servers: {
    id: number;
    emulator: number;
    handling: number;
    enabled: boolean;
    bufioreqPort: number;
    ports: number[];
    portRanges: { start: bigint; end: bigint }[];
    memoryRanges: { start: bigint; end: bigint }[];
    pciRanges: { start: bigint; end: bigint }[];
  }[];
}

export class XenDeviceModel {
  constructor(
    private readonly options: {
      /** The emulator's domid (the `caller` of every call). */
      domid: number;
      /** A call client for the hypervisor's DmOp service. */
      calls: CallClient;
      deadlineMs?: number;
    },
  ) {}

  private call<T>(method: string, req: object): Promise<T> {
    return this.options.calls.call<object, T>(
      method,
      { caller: this.options.domid, ...req },
      { deadlineMs: this.options.deadlineMs ?? 5000 },
    );
  }

  /** HYPERVISOR_dm_op(domid, 1, {buf}): rc and the buffer as Xen copied it back. */
  async dmOp(domid: number, buf: Uint8Array): Promise<{ rc: number; buf: Uint8Array }> {
    const r = await this.call<DmOpReply__Output>("DmOp", { domid, buf: Buffer.from(buf) });
    return { rc: r.rc, buf: new Uint8Array(r.buf) };
  }

  /** XENMEM_acquire_resource of ioreq server `id`: machine frames of the host's page store. */
  async acquireResource(
    domid: number,
    id: number,
    frame: number,
    nrFrames: number,
  ): Promise<{ rc: number; frames: number[] }> {
    const r = await this.call<AcquireResourceReply__Output>("AcquireResource", {
      domid,
      type: XENMEM_resource_ioreq_server,
      id,
      frame: String(frame),
      nrFrames,
    });
    return { rc: r.rc, frames: r.frames };
  }

  /** Unmap what acquireResource handed out for server `id`. */
  async releaseResource(domid: number, id: number): Promise<number> {
    return (
      await this.call<DmOpRcReply__Output>("ReleaseResource", {
        domid,
        type: XENMEM_resource_ioreq_server,
        id,
      })
    ).rc;
  }

  async ioreqServerList(domid: number): Promise<IoreqServerListing> {
    const r = await this.call<IoreqServerListReply__Output>("IoreqServerList", { domid });
    const rs = (l: { start: string; end: string }[]) =>
      l.map((x) => ({ start: BigInt(x.start), end: BigInt(x.end) }));
    return {
      rc: r.rc,
      crashReason: r.crashReason,
      servers: r.servers.map((s) => ({
        id: s.id,
        emulator: s.emulator,
        handling: s.handling,
        enabled: s.enabled,
        bufioreqPort: s.bufioreqPort,
        ports: s.ports,
        portRanges: rs(s.portRanges),
        memoryRanges: rs(s.memoryRanges),
        pciRanges: rs(s.pciRanges),
      })),
    };
  }
}
