// One emulator for one guest, the way QEMU's Xen accelerator registers itself (xen_register_ioreq):
// create an ioreq server (buffering ATOMIC), map its pages with acquire_resource, enable it, bind each
// vCPU's port (read from vp_eport in the synchronous page) and the buffered port, then claim its
// ranges; afterwards each event is a request to answer. Stopping undoes it in reverse (destroy frees
// the ranges and Xen's ports). The hypercalls, the page mapping and guest memory are injected.

import {
  BUFFERED_IOPAGE_LAYOUT,
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  IOREQ_LAYOUT,
  XEN_DMOP_IO_RANGE_MEMORY,
  XEN_DMOP_IO_RANGE_PCI,
  XEN_DMOP_IO_RANGE_PORT,
  XENMEM_resource_ioreq_server_frame_bufioreq,
  xenmemResourceIoreqServerFrameIoreq,
} from "@xensim/abi";
import {
  decodeCreateIoreqServerId,
  decodeGetIoreqServerInfo,
  encodeCreateIoreqServer,
  encodeDestroyIoreqServer,
  encodeGetIoreqServerInfo,
  encodeIoRange,
  encodeSetIoreqServerState,
  IOREQ_PORT_WORD,
  type IoreqHandler,
  IoreqServerEnd,
  ioreqSlot,
} from "@xensim/ioreq";
import type { GuestMemory, Machine } from "./machine.js";

/** The hypercalls an emulator makes (libxendevicemodel, libxenforeignmemory, libxenevtchn). */
export interface DmHypercalls {
  dmOp(domid: number, buf: Uint8Array): Promise<{ rc: number; buf: Uint8Array }>;
  /** XENMEM_acquire_resource (type ioreq server): machine frames. */
  acquireResource(
    domid: number,
    id: number,
    frame: number,
    nrFrames: number,
  ): Promise<{ rc: number; frames: number[] }>;
  releaseResource(domid: number, id: number): Promise<number>;
  /** The Int32 view and word index of an acquired frame (frame × 1024 in the host's store). */
  mapFrame(frame: number): { i32: Int32Array; base: number };
  bindInterdomain(domid: number, remotePort: number): Promise<{ rc: number; port: number }>;
  evtchnClose(port: number): Promise<number>;
  /**
   * The per-I/O kick (the driver port's `kick`, @xensim/xenbus DataPlanePort: atomics in the
   * hypervisor's host process, a record on the link in another).
   */
  notify(port: number): void;
  /**
   * Publish: bytes [offset, offset + length) of machine frame `frame` were written (the driver port's
   * `markWritten`: the write log and, when another host process holds the frame, the link). Called
   * for each answered slot and the buffered ring's read pointer before the kick. Optional: nothing to
   * publish when no other process can hold the pages.
   */
  written?(frame: number, offset: number, length: number): void;
}

export class EmulatorError extends Error {
  override readonly name = "EmulatorError";
  readonly code = "EIO";
  constructor(
    readonly step: string,
    readonly rc: number,
  ) {
    super(`${step} failed: rc ${rc}`);
  }
}

export interface EmulatorOptions {
  domid: number;
  /** The guest's vCPUs (QEMU's -smp). */
  vcpus: number;
  machine: Machine;
  hc: DmHypercalls;
  /** Guest memory for rep string accesses through a guest buffer. */
  memory?: GuestMemory;
  /** bufioreq handling (default ATOMIC, as QEMU asks). */
  handling?: number;
  /** Logged problems (a buffered page the emulator will not walk). */
  onError?: (message: string) => void;
}

export class Emulator {
  private id = -1;
  private end?: IoreqServerEnd;
  private readonly localPorts: number[] = [];
  private acquired = false;
  /** The machine frames of the pages acquired (for `written`). */
  private frames: { ioreq: number; buf?: number } | undefined;
  readonly handler: IoreqHandler;
  /** Synchronous requests answered and buffered requests handled. */
  readonly counts = { synchronous: 0, buffered: 0, events: 0 };

  constructor(readonly o: EmulatorOptions) {
    const m = o.machine;
    this.handler = {
      ioreq: (req) => m.handle(req, o.memory),
      buffered: (b) => m.buffered(b),
    };
  }

  /** The ioreq server id (after start). */
  get serverId(): number {
    return this.id;
  }

  get ports(): readonly number[] {
    return this.localPorts;
  }

  private async op(step: string, buf: Uint8Array): Promise<Uint8Array> {
    const r = await this.o.hc.dmOp(this.o.domid, buf);
    if (r.rc) throw new EmulatorError(step, r.rc);
    return r.buf;
  }

  /** Register with Xen and claim the machine's ranges. Undone on failure. */
  async start(): Promise<void> {
    const { hc, domid } = this.o;
    try {
      this.id = decodeCreateIoreqServerId(
        await this.op(
          "create_ioreq_server",
          encodeCreateIoreqServer(this.o.handling ?? HVM_IOREQSRV_BUFIOREQ_ATOMIC),
        ),
      );
      const info = decodeGetIoreqServerInfo(
        await this.op("get_ioreq_server_info", encodeGetIoreqServerInfo(this.id)),
      );
      const buffered = info.bufioreqPort !== 0;
      const first = buffered
        ? XENMEM_resource_ioreq_server_frame_bufioreq
        : xenmemResourceIoreqServerFrameIoreq(0);
      const res = await hc.acquireResource(domid, this.id, first, buffered ? 2 : 1);
      if (res.rc) throw new EmulatorError("acquire_resource", res.rc);
      this.acquired = true;
      const sync = hc.mapFrame(res.frames[buffered ? 1 : 0]!);
      const buf = buffered ? hc.mapFrame(res.frames[0]!) : undefined;
      this.frames = { ioreq: res.frames[buffered ? 1 : 0]!, ...(buffered ? { buf: res.frames[0]! } : {}) };
      await this.op("set_ioreq_server_state", encodeSetIoreqServerState(this.id, true));
      // Each vCPU's port, as Xen wrote it into the slot on enable.
      for (let v = 0; v < this.o.vcpus; v++) {
        const eport = sync.i32[ioreqSlot(sync.base, v) + IOREQ_PORT_WORD]! >>> 0;
        const b = await hc.bindInterdomain(domid, eport);
        if (b.rc) throw new EmulatorError(`bind vCPU ${v}'s port ${eport}`, b.rc);
        this.localPorts.push(b.port);
      }
      let bufLocal: number | undefined;
      if (buffered) {
        const b = await hc.bindInterdomain(domid, info.bufioreqPort);
        if (b.rc) throw new EmulatorError(`bind the buffered port ${info.bufioreqPort}`, b.rc);
        bufLocal = b.port;
      }
      this.end = new IoreqServerEnd({
        i32: sync.i32,
        ioreqBase: sync.base,
        ...(buf ? { bufBase: buf.base } : {}),
        vcpuPorts: this.localPorts.slice(0, this.o.vcpus),
        ...(bufLocal !== undefined ? { bufPort: bufLocal } : {}),
      });
      if (bufLocal !== undefined) this.localPorts.push(bufLocal);
      const c = this.o.machine.claims();
      for (const [s, e] of c.ports)
        await this.op(
          `map ports ${s.toString(16)}-${e.toString(16)}`,
          encodeIoRange(true, this.id, XEN_DMOP_IO_RANGE_PORT, BigInt(s), BigInt(e)),
        );
      for (const [s, e] of c.memory)
        await this.op(
          `map memory ${s.toString(16)}-${e.toString(16)}`,
          encodeIoRange(true, this.id, XEN_DMOP_IO_RANGE_MEMORY, s, e),
        );
      for (const sbdf of c.pci)
        await this.op(
          `map PCI ${sbdf.toString(16)}`,
          encodeIoRange(true, this.id, XEN_DMOP_IO_RANGE_PCI, BigInt(sbdf), BigInt(sbdf)),
        );
    } catch (e) {
      await this.stop().catch(() => {});
      throw e;
    }
    // Requests that came in before the ports were bound.
    this.poll();
  }

  /** Does `port` (a local port) belong to this emulator? */
  ownsPort(port: number): boolean {
    return this.end?.ownsPort(port) ?? false;
  }

  /** An event on a local port: answer what is there and kick the vCPUs answered. */
  onEvent(port: number): void {
    if (!this.end) return;
    this.counts.events++;
    const out = this.end.handleEvent(port, this.handler);
    this.account(out);
  }

  /** Check every slot and the buffered ring (the receiver's slow rescan). */
  poll(): void {
    if (!this.end) return;
    this.account(this.end.poll(this.handler));
  }

  private account(out: { notify: number[]; synchronous: number; buffered: number; error?: string }): void {
    this.counts.synchronous += out.synchronous;
    this.counts.buffered += out.buffered;
    const { hc } = this.o;
    if (hc.written && this.frames) {
      // publish before the kick: the answers (state, data) and what the ring consumed
      if (out.buffered > 0 && this.frames.buf !== undefined)
        hc.written(this.frames.buf, BUFFERED_IOPAGE_LAYOUT.read_pointer, 4);
      for (const p of out.notify) {
        const v = this.localPorts.indexOf(p);
        if (v >= 0 && v < this.o.vcpus) hc.written(this.frames.ioreq, ioreqSlot(0, v) * 4, IOREQ_LAYOUT.size);
      }
    }
    for (const p of out.notify) hc.notify(p);
    if (out.error) this.o.onError?.(out.error);
  }

  /** Disable and destroy the server, unmap its pages, close the ports (best effort, in that order). */
  async stop(): Promise<void> {
    const { hc, domid } = this.o;
    const id = this.id;
    this.end = undefined;
    if (id >= 0) {
      await hc.dmOp(domid, encodeSetIoreqServerState(id, false)).catch(() => {});
      await hc.dmOp(domid, encodeDestroyIoreqServer(id)).catch(() => {});
    }
    if (this.acquired) await hc.releaseResource(domid, id).catch(() => {});
    this.acquired = false;
    this.frames = undefined;
    for (const p of this.localPorts.splice(0)) await hc.evtchnClose(p).catch(() => {});
    this.id = -1;
  }

  /** A server this emulator's domain created earlier (a previous instance that died): unmap and destroy it. */
  static async reclaim(hc: DmHypercalls, domid: number, id: number): Promise<number> {
    await hc.releaseResource(domid, id).catch(() => {});
    return (await hc.dmOp(domid, encodeDestroyIoreqServer(id))).rc;
  }
}
