// The emulator's end of one ioreq server (QEMU's xen-hvm-common.c cpu_handle_ioreq /
// handle_buffered_iopage), over the pages it mapped with acquire_resource and the ports it bound:
// an event on vCPU v's port → take the READY slot (copied once), emulate, answer, notify that port;
// an event on the buffered port → drain the ring. The caller owns the event plumbing and the devices.

import { bufPending, dmDrainBuffered } from "./buffered.js";
import { type BufIoreq, type Ioreq, ioreqSlot } from "./codec.js";
import { dmCompleteIoreq, dmTakeIoreq } from "./sync.js";

export interface IoreqHandler {
  /** A synchronous request of vCPU `vcpu`: PIO, COPY, PCI_CONFIG, INVALIDATE or TIMEOFFSET. Returns a read's value. */
  ioreq(req: Ioreq, vcpu: number): bigint | undefined;
  /** A buffered write (1, 2, 4 or 8 bytes). */
  buffered(req: BufIoreq): void;
}

export interface ServerPages {
  i32: Int32Array;
  /** Word index of the synchronous page (frame × 1024). */
  ioreqBase: number;
  /** Word index of the buffered page, if buffering is on. */
  bufBase?: number;
  /** The emulator's local port bound to each vCPU's Xen port, by vCPU. */
  vcpuPorts: readonly number[];
  /** The emulator's local port bound to the buffered port. */
  bufPort?: number;
}

export interface EventOutcome {
  /** Local ports to notify (the vCPU ports that got an answer). */
  notify: number[];
  synchronous: number;
  buffered: number;
  /** A buffered page the emulator will not walk (pointers out of range, incomplete 8-byte entry). */
  error?: string;
}

export class IoreqServerEnd {
  private readonly byPort = new Map<number, number>();

  constructor(readonly pages: ServerPages) {
    pages.vcpuPorts.forEach((p, v) => this.byPort.set(p, v));
  }

  ownsPort(port: number): boolean {
    return this.byPort.has(port) || port === this.pages.bufPort;
  }

  /** Handle an event on a local port. */
  handleEvent(port: number, h: IoreqHandler): EventOutcome {
    const out: EventOutcome = { notify: [], synchronous: 0, buffered: 0 };
    if (port === this.pages.bufPort) {
      this.drain(h, out);
      return out;
    }
    const vcpu = this.byPort.get(port);
    if (vcpu !== undefined && this.serveVcpu(vcpu, h, out)) {
      out.synchronous++;
      out.notify.push(port);
    }
    return out;
  }

  /** Check every slot and the buffered ring (the slow rescan: a lost event delays, never loses). */
  poll(h: IoreqHandler): EventOutcome {
    const out: EventOutcome = { notify: [], synchronous: 0, buffered: 0 };
    // Buffered writes that came before a synchronous access are handled first (QEMU drains the
    // buffered ring before each synchronous request).
    this.drain(h, out);
    this.pages.vcpuPorts.forEach((port, vcpu) => {
      if (this.serveVcpu(vcpu, h, out)) {
        out.synchronous++;
        out.notify.push(port);
      }
    });
    return out;
  }

  /**
   * Answer vCPU `vcpu`'s READY slot. What it drains of the buffered ring first counts in
   * `out.buffered`, so that the caller publishes the moved read pointer with the answer (across host
   * processes Xen otherwise keeps seeing a full ring and sends every store synchronously).
   */
  private serveVcpu(vcpu: number, h: IoreqHandler, out: EventOutcome): boolean {
    const { i32, ioreqBase } = this.pages;
    const slot = ioreqSlot(ioreqBase, vcpu);
    const req = dmTakeIoreq(i32, slot);
    if (!req) return false;
    let data: bigint | undefined;
    try {
      if (this.pages.bufBase !== undefined && bufPending(i32, this.pages.bufBase) > 0) this.drain(h, out);
      data = h.ioreq(req, vcpu);
    } finally {
      dmCompleteIoreq(i32, slot, req, data);
    }
    return true;
  }

  private drain(h: IoreqHandler, out: EventOutcome): void {
    if (this.pages.bufBase === undefined) return;
    const r = dmDrainBuffered(this.pages.i32, this.pages.bufBase, (b) => h.buffered(b));
    out.buffered += r.handled;
    if (r.status !== "ok")
      out.error = `buffered page ${r.status}: read_pointer ${r.read}, write_pointer ${r.write}`;
  }
}
