// The receiving end of a domain's event channels (Linux's upcall handler, for one vCPU): scans the
// 2-level pending bits and dispatches each pending, unmasked port bound to its vCPU once per 0 → 1
// edge (ports of other vCPUs stay pending for their own receiver). A wake-up is a hint, never the
// event: the receiver rescans on every wake (Atomics on the wake word) and on a slow timer (a full scan), so a lost wake-up delays an event and a duplicated one dispatches
// nothing.

import { scanPending } from "@xensim/evtchn";
import type { MemView } from "@xensim/memory";

type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export interface EvtchnPortOptions {
  domid: number;
  vcpu?: number;
  /** The domain's shared_info. */
  sharedInfo: MemView;
  /**
   * A port's notify vCPU (`EventChannels.portVcpuReader(domid)`): only ports bound to `vcpu` are
   * consumed, the others stay pending for their own vCPU's receiver. Omitted: every port is ours.
   */
  notifyVcpu?: (port: number) => number;
  /** The buffer and Int32 index of the wake word (omit: only the slow timer scans, for tests). */
  wake?: { i32: Int32Array; index: number };
  /** Full rescan period, ms (default 100). */
  slowScanMs?: number;
  /** Where handler errors go (default: rethrown on a fresh task, which crashes loudly). */
  onError?: (err: unknown, port: number) => void;
}

export class EvtchnPort {
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly vcpu: number;
  /** Ports dispatched so far. */
  dispatched = 0;
  /** Scans run (wake-ups, bus messages and timer ticks). */
  scans = 0;

  constructor(
    private readonly options: EvtchnPortOptions,
    private readonly handler: (port: number) => void,
  ) {
    this.vcpu = options.vcpu ?? 0;
    // The slow timer is also the live handle that keeps the event loop running while a
    // waitAsync is pending (in Node 20 a pending waitAsync alone does not).
    this.timer = setInterval(() => this.scan(true), options.slowScanMs ?? 100);
    this.scan(true); // events raised before we started
    if (options.wake) void this.waitLoop(options.wake.i32, options.wake.index);
  }

  /** Resolves at once (kept for callers that awaited a bus subscription). */
  async ready(): Promise<void> {}

  private async waitLoop(i32: Int32Array, index: number): Promise<void> {
    while (!this.closed) {
      const w = Atomics.load(i32, index);
      if (w & 0xff) {
        this.scan(false); // clears evtchn_upcall_pending
        continue;
      }
      const r = waitAsync(i32, index, w);
      if (r.async) await r.value;
    }
  }

  /** Scan now (`full`: every bitmap word, not only the selected ones). Returns ports dispatched. */
  scan(full = false): number {
    if (this.closed) return 0;
    this.scans++;
    const n = scanPending(
      this.options.sharedInfo,
      this.vcpu,
      (port) => {
        try {
          this.handler(port);
        } catch (err) {
          if (this.options.onError) this.options.onError(err, port);
          else
            setImmediate(() => {
              throw err;
            });
        }
      },
      this.options.notifyVcpu ? { full, notifyVcpu: this.options.notifyVcpu } : { full },
    );
    this.dispatched += n;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // Release our pending waitAsync (other waiters on the word just rescan: wake-ups are hints).
    if (this.options.wake) Atomics.notify(this.options.wake.i32, this.options.wake.index);
  }
}
