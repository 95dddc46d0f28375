// One emulator for one guest, the way QEMU's Xen accelerator registers itself (xen_register_ioreq):
// create an ioreq server (buffering ATOMIC), map its pages with acquire_resource, enable it, bind each
// vCPU's port (read from vp_eport in the synchronous page) and the buffered port, then claim its
// ranges; afterwards each event is a request to answer. Stopping undoes it in reverse (destroy frees
// the ranges and Xen's ports). The hypercalls, the page mapping and guest memory are injected.

import {
  BUFFERED_IOPAGE_LAYOUT,
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  IOREQ_LAYOUT,
  IOREQ_READ,
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
  type EventOutcome,
  type IoreqHandler,
  IoreqServerEnd,
  ioreqSlot,
  bufIoreqTraceFields,
  ioreqTraceData,
  ioreqTraceFields,
} from "@xensim/ioreq";
import { TRACE_IOREQ, tracer } from "@xensim/trace";
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
  /** The emulator's own domain (its trace records' `domid`; default 0, a device model in dom0). */
  self?: number;
}

/** What an emulator's serving end needs: the pages and ports start() set up (numbers only, transferable). */
export interface EmulatorHandover {
  domid: number;
  vcpus: number;
  serverId: number;
  /** Word indices of the synchronous and (if buffering) the buffered page in the store's Int32 view. */
  ioreqBase: number;
  bufBase?: number;
  /** Local ports bound to each vCPU's Xen port, by vCPU. */
  vcpuPorts: number[];
  bufPort?: number;
  /** The machine frames of the pages (for `written`). */
  frames: { ioreq: number; buf?: number };
}

export interface EmulatorEndOptions {
  machine: Machine;
  /** Guest memory for rep string accesses through a guest buffer. */
  memory?: GuestMemory;
  /** The per-I/O kick (DmHypercalls.notify). */
  notify(port: number): void;
  /** Publish what was written before the kick (DmHypercalls.written). */
  written?(frame: number, offset: number, length: number): void;
  onError?: (message: string) => void;
  /** The emulator's own domain (trace records' `domid`; default 0). */
  self?: number;
}

/**
 * The serving half of an emulator (QEMU's cpu_handle_ioreq / handle_buffered_iopage on the pages
 * and ports an Emulator registered): each event answered, each answer published and kicked. It holds
 * no promise and makes no call, so it runs on whichever thread receives the events — the service's
 * event loop or a thread of its own blocked in Atomics.wait.
 */
export class EmulatorEnd {
  private readonly end: IoreqServerEnd;
  readonly handler: IoreqHandler;
  /** Synchronous requests answered and buffered requests handled. */
  readonly counts = { synchronous: 0, buffered: 0, events: 0 };

  constructor(
    i32: Int32Array,
    readonly handover: EmulatorHandover,
    private readonly options: EmulatorEndOptions,
  ) {
    const m = options.machine;
    const self = options.self ?? 0;
    const domid = handover.domid;
    const serverId = handover.serverId;
    this.handler = {
      ioreq: (req, vcpu) => {
        if (tracer.mask & TRACE_IOREQ)
          tracer.emit({
            kind: "ioreq",
            op: "take",
            domid: self,
            peer: domid,
            server: serverId,
            vcpu,
            state: "READY->INPROCESS",
            ...ioreqTraceFields(req),
          });
        const data = m.handle(req, options.memory);
        if (tracer.mask & TRACE_IOREQ)
          tracer.emit({
            kind: "ioreq",
            op: "respond",
            domid: self,
            peer: domid,
            server: serverId,
            vcpu,
            state: "INPROCESS->IORESP_READY",
            ...ioreqTraceFields(req),
            ...(req.dir === IOREQ_READ && !req.dataIsPtr && data !== undefined
              ? { data: ioreqTraceData(data) }
              : {}),
          });
        return data;
      },
      buffered: (b) => {
        if (tracer.mask & TRACE_IOREQ)
          tracer.emit({
            kind: "ioreq",
            op: "buffered_take",
            domid: self,
            peer: domid,
            server: serverId,
            ...bufIoreqTraceFields(b),
          });
        m.buffered(b);
      },
    };
    this.end = new IoreqServerEnd({
      i32,
      ioreqBase: handover.ioreqBase,
      ...(handover.bufBase !== undefined ? { bufBase: handover.bufBase } : {}),
      vcpuPorts: handover.vcpuPorts,
      ...(handover.bufPort !== undefined ? { bufPort: handover.bufPort } : {}),
    });
  }

  get machine(): Machine {
    return this.options.machine;
  }

  ownsPort(port: number): boolean {
    return this.end.ownsPort(port);
  }

  /** An event on a local port: answer what is there and kick the vCPUs answered. */
  onEvent(port: number): void {
    this.counts.events++;
    this.account(this.end.handleEvent(port, this.handler));
  }

  /** Check every slot and the buffered ring (the receiver's slow rescan). */
  poll(): void {
    this.account(this.end.poll(this.handler));
  }

  private account(out: EventOutcome): void {
    this.counts.synchronous += out.synchronous;
    this.counts.buffered += out.buffered;
    const { written, notify } = this.options;
    const { frames, vcpuPorts } = this.handover;
    if (written) {
      // publish before the kick: the answers (state, data) and what the ring consumed
      if (out.buffered > 0 && frames.buf !== undefined)
        written(frames.buf, BUFFERED_IOPAGE_LAYOUT.read_pointer, 4);
      for (const p of out.notify) {
        const v = vcpuPorts.indexOf(p);
        if (v >= 0) written(frames.ioreq, ioreqSlot(0, v) * 4, IOREQ_LAYOUT.size);
      }
    }
    for (const p of out.notify) notify(p);
    if (out.error) this.options.onError?.(out.error);
  }
}

export class Emulator {
  private id = -1;
  private serving?: EmulatorEnd;
  private handed?: EmulatorHandover;
  private readonly localPorts: number[] = [];
  private acquired = false;

  constructor(readonly options: EmulatorOptions) {}

  /** Synchronous requests answered and buffered requests handled (here: before a handover). */
  get counts(): { synchronous: number; buffered: number; events: number } {
    return this.serving?.counts ?? { synchronous: 0, buffered: 0, events: 0 };
  }

  /** The ioreq server id (after start). */
  get serverId(): number {
    return this.id;
  }

  get ports(): readonly number[] {
    return this.localPorts;
  }

  private async op(step: string, buf: Uint8Array): Promise<Uint8Array> {
    const r = await this.options.hc.dmOp(this.options.domid, buf);
    if (r.rc) throw new EmulatorError(step, r.rc);
    return r.buf;
  }

  /** Register with Xen and claim the machine's ranges. Undone on failure. */
  async start(): Promise<void> {
    const { hc, domid } = this.options;
    try {
      this.id = decodeCreateIoreqServerId(
        await this.op(
          "create_ioreq_server",
          encodeCreateIoreqServer(this.options.handling ?? HVM_IOREQSRV_BUFIOREQ_ATOMIC),
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
      const ioreqFrame = res.frames[buffered ? 1 : 0]!;
      const sync = hc.mapFrame(ioreqFrame);
      const buf = buffered ? hc.mapFrame(res.frames[0]!) : undefined;
      await this.op("set_ioreq_server_state", encodeSetIoreqServerState(this.id, true));
      // Each vCPU's port, as Xen wrote it into the slot on enable.
      for (let v = 0; v < this.options.vcpus; v++) {
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
      const handover: EmulatorHandover = {
        domid,
        vcpus: this.options.vcpus,
        serverId: this.id,
        ioreqBase: sync.base,
        ...(buf ? { bufBase: buf.base } : {}),
        vcpuPorts: this.localPorts.slice(0, this.options.vcpus),
        ...(bufLocal !== undefined ? { bufPort: bufLocal } : {}),
        frames: { ioreq: ioreqFrame, ...(buffered ? { buf: res.frames[0]! } : {}) },
      };
      this.serving = new EmulatorEnd(sync.i32, handover, {
        machine: this.options.machine,
        ...(this.options.memory ? { memory: this.options.memory } : {}),
        notify: (p) => hc.notify(p),
        ...(hc.written ? { written: hc.written.bind(hc) } : {}),
        ...(this.options.onError ? { onError: this.options.onError } : {}),
        ...(this.options.self !== undefined ? { self: this.options.self } : {}),
      });
      this.handed = handover;
      if (bufLocal !== undefined) this.localPorts.push(bufLocal);
      const c = this.options.machine.claims();
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

  /**
   * Give the serving to another thread: what it needs to build its own EmulatorEnd (with a machine
   * restored from this one's state). This emulator answers nothing afterwards; stop() still
   * unregisters it.
   */
  handover(): EmulatorHandover {
    if (!this.handed) throw new Error("the emulator is not running");
    this.serving = undefined;
    return this.handed;
  }

  /** Does `port` (a local port) belong to this emulator? */
  ownsPort(port: number): boolean {
    return this.serving?.ownsPort(port) ?? false;
  }

  /** An event on a local port: answer what is there and kick the vCPUs answered. */
  onEvent(port: number): void {
    this.serving?.onEvent(port);
  }

  /** Check every slot and the buffered ring (the receiver's slow rescan). */
  poll(): void {
    this.serving?.poll();
  }

  /** Disable and destroy the server, unmap its pages, close the ports (best effort, in that order). */
  async stop(): Promise<void> {
    const { hc, domid } = this.options;
    const id = this.id;
    this.serving = undefined;
    this.handed = undefined;
    if (id >= 0) {
      await hc.dmOp(domid, encodeSetIoreqServerState(id, false)).catch(() => {});
      await hc.dmOp(domid, encodeDestroyIoreqServer(id)).catch(() => {});
    }
    if (this.acquired) await hc.releaseResource(domid, id).catch(() => {});
    this.acquired = false;
    for (const p of this.localPorts.splice(0)) await hc.evtchnClose(p).catch(() => {});
    this.id = -1;
  }

  /** A server this emulator's domain created earlier (a previous instance that died): unmap and destroy it. */
  static async reclaim(hc: DmHypercalls, domid: number, id: number): Promise<number> {
    await hc.releaseResource(domid, id).catch(() => {});
    return (await hc.dmOp(domid, encodeDestroyIoreqServer(id))).rc;
  }
}
