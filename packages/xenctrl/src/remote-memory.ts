// XenCtrl in a host process without the hypervisor (DESIGN.md "Memory model", across host
// processes): granted frames are imported by this host's page-server as local replicas, writes
// through the views are collected here and published on the next send (the fence travels with the
// send; the hypervisor sets the pending bit only once its host applied it), and a receiver consumes
// its pending ports with a call to the hypervisor, then awaits the hypervisor host's fence in this
// host's page-server before it dispatches.
import type { CallClient, EventBus, Subscription } from "@xensim/bus";
import type { WriteLog } from "@xensim/memory";
import type { EvtchnConsumePendingReply__Output, FenceStatus__Output } from "@xensim/proto";
import { decodeEvtchnWake, type Fence, HYPERVISOR_SUBJECTS } from "./subjects.js";

/**
 * Ranges written through this process's views since the last publish, per frame, exactly as written:
 * overlapping or touching ranges merge, gaps stay gaps. Never widen a range over bytes this side did
 * not write — a ring page is written by both ends, and publishing our stale copy of the other end's
 * words would overwrite them on its replica.
 */
export class RangeLog implements WriteLog {
  private ranges = new Map<number, number[]>(); // frame → sorted, disjoint [lo0, hi0, lo1, hi1, …]
  written(frame: number, offset: number, length: number): void {
    if (length <= 0) return;
    let lo = offset;
    let hi = offset + length;
    const list = this.ranges.get(frame);
    if (!list) {
      this.ranges.set(frame, [lo, hi]);
      return;
    }
    // Fast path: appending at or after the last range (sequential writes).
    const n = list.length;
    if (lo > list[n - 1]!) {
      list.push(lo, hi);
      return;
    }
    if (lo === list[n - 1]!) {
      list[n - 1] = Math.max(hi, list[n - 1]!);
      return;
    }
    const out: number[] = [];
    let i = 0;
    for (; i < n && list[i + 1]! < lo; i += 2) out.push(list[i]!, list[i + 1]!);
    for (; i < n && list[i]! <= hi; i += 2) {
      lo = Math.min(lo, list[i]!);
      hi = Math.max(hi, list[i + 1]!);
    }
    out.push(lo, hi);
    for (; i < n; i++) out.push(list[i]!);
    this.ranges.set(frame, out);
  }
  get empty(): boolean {
    return this.ranges.size === 0;
  }
  take(): Array<{ frame: number; offset: number; length: number }> {
    const out: Array<{ frame: number; offset: number; length: number }> = [];
    for (const [frame, list] of this.ranges)
      for (let i = 0; i < list.length; i += 2)
        out.push({ frame, offset: list[i]!, length: list[i + 1]! - list[i]! });
    this.ranges.clear();
    return out;
  }
}

export interface RemoteReceiverOptions {
  domid: number;
  vcpu: number;
  /** The hypervisor (EvtchnConsumePending). */
  calls: CallClient;
  caller: number;
  /** This host's page-server (Fence). */
  pageServer: CallClient;
  bus: EventBus;
  slowScanMs?: number;
  onError?: (err: unknown, port: number) => void;
}

/**
 * A receiver for a domain whose shared_info lives in another host process: on every `evtchn.<domid>`
 * wake-up and on a slow timer it consumes the pending ports by call (level-triggered: a lost or
 * duplicated wake-up is harmless), awaits the fence that came with them, then dispatches.
 */
export class RemoteEvtchnReceiver {
  private closed = false;
  private running = false;
  private again = false;
  private readonly timer: NodeJS.Timeout;
  private readonly sub: Subscription;
  dispatched = 0;
  scans = 0;

  constructor(
    private readonly o: RemoteReceiverOptions,
    private readonly handler: (port: number) => void,
  ) {
    this.timer = setInterval(() => this.kick(), o.slowScanMs ?? 100);
    this.sub = o.bus.subscribe(HYPERVISOR_SUBJECTS.evtchnWake(o.domid), {
      callback: (m) => {
        try {
          if (decodeEvtchnWake(m.data).vcpu !== o.vcpu) return;
        } catch {
          // a malformed hint still means "rescan"
        }
        this.kick();
      },
    });
    this.kick();
  }

  async ready(): Promise<void> {
    await this.o.bus.flush();
  }

  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      this.scans++;
      let r: EvtchnConsumePendingReply__Output;
      try {
        r = await this.o.calls.call<object, EvtchnConsumePendingReply__Output>(
          "EvtchnConsumePending",
          { caller: this.o.caller, domid: this.o.domid, vcpu: this.o.vcpu },
          { deadlineMs: 5000 },
        );
      } catch {
        continue; // the timer retries
      }
      if (r.rc !== 0 || r.ports.length === 0) continue;
      const fence: Fence = { host: r.fenceHost, seq: Number(r.fenceSeq) };
      // The ports are consumed: do not dispatch before the memory they announce is here.
      while (fence.seq > 0 && !this.closed) {
        try {
          const st = await this.o.pageServer.call<object, FenceStatus__Output>(
            "Fence",
            { fence: { host: fence.host, seq: String(fence.seq) }, waitMs: 2000 },
            { deadlineMs: 5000 },
          );
          if (st.applied) break;
        } catch {
          await new Promise((res) => setTimeout(res, 50));
        }
      }
      if (this.closed) return;
      for (const p of r.ports) {
        this.dispatched++;
        try {
          this.handler(p);
        } catch (err) {
          if (this.o.onError) this.o.onError(err, p);
          else
            setImmediate(() => {
              throw err;
            });
        }
      }
    } while ((this.again || false) && !this.closed);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.sub.unsubscribe();
  }
}
