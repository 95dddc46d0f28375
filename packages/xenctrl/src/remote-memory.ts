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

/** Ranges written through this process's views since the last publish. */
export class RangeLog implements WriteLog {
  private ranges: Array<{ frame: number; offset: number; length: number }> = [];
  written(frame: number, offset: number, length: number): void {
    if (length > 0) this.ranges.push({ frame, offset, length });
  }
  take(): Array<{ frame: number; offset: number; length: number }> {
    const r = this.ranges;
    this.ranges = [];
    return r;
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
