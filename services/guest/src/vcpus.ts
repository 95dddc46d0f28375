// The vCPU threads of one HVM guest (vcpu-worker.ts): started when the guest boots with firmware,
// stopped (a flag the threads poll, also between Atomics.wait slices of a blocked access) on halt,
// shutdown, kexec or death. A crash Xen decided on (a misbehaving emulator) is reported once.

import { Worker } from "node:worker_threads";
import type { BiosReport, FirmwareSettings } from "@xensim/guest";
import { onTraceSwitch, TRACE_IOREQ, type TraceRecord, tracer } from "@xensim/trace";
import type { VcpuMessage, VcpuWorkerData } from "./vcpu-worker.js";

export interface GuestVcpusOptions {
  sab: SharedArrayBuffer;
  domid: number;
  name: string;
  vcpus: number;
  settings: FirmwareSettings;
  onBooted?: (report: BiosReport) => void;
  onCrash?: (reason: string) => void;
  onError?: (vcpu: number, error: string) => void;
}

/** Guest pages the vCPUs use as string buffers (below the kernel allocator's first gfn, 256). */
const SCRATCH_GFN = 0x80;

export class GuestVcpus {
  /** [0] stop, [1] vCPU 0 booted, [2] the trace mask the vCPU threads apply (TRACE_IOREQ or 0). */
  private readonly flags = new Int32Array(new SharedArrayBuffer(12));
  private readonly unsubscribeTrace: () => void;
  private readonly workers: Worker[] = [];
  private readonly exits: Promise<void>[] = [];
  private crashed = false;
  report: BiosReport | undefined;
  readonly routes: Record<string, number>[] = [];
  /** The firmware's interrupt counts per vCPU (COM1 and RTC handlers, interrupts taken). */
  readonly irqs: Record<string, number>[] = [];

  constructor(private readonly options: GuestVcpusOptions) {
    // The vCPU threads never return to their event loop: they read the ioreq trace switch from a
    // shared word before each access and post their records here, where this thread's tracer sends them.
    Atomics.store(this.flags, 2, tracer.mask & TRACE_IOREQ);
    this.unsubscribeTrace = onTraceSwitch((mask) => Atomics.store(this.flags, 2, mask & TRACE_IOREQ));
    for (let v = 0; v < Math.min(options.vcpus, 32); v++) {
      const data: VcpuWorkerData = {
        sab: options.sab,
        domid: options.domid,
        vcpu: v,
        name: options.name,
        settings: options.settings,
        flags: this.flags,
        scratchGpa: (SCRATCH_GFN + v) * 4096,
      };
      const w = new Worker(new URL("./vcpu-worker.js", import.meta.url), { workerData: data });
      w.on("message", (m: VcpuMessage) => this.onMessage(v, m));
      w.on("error", (e) => options.onError?.(v, String(e)));
      this.exits.push(new Promise((r) => w.once("exit", () => r())));
      this.workers.push(w);
    }
  }

  private onMessage(v: number, m: VcpuMessage): void {
    if (m.t === "booted") {
      this.report = m.report as BiosReport;
      this.options.onBooted?.(this.report);
    } else if (m.t === "crash") {
      if (this.crashed) return;
      this.crashed = true;
      Atomics.store(this.flags, 0, 1);
      Atomics.notify(this.flags, 0);
      this.options.onCrash?.(m.reason);
    } else if (m.t === "error") this.options.onError?.(v, m.error);
    else if (m.t === "stats") {
      this.routes[v] = m.routes;
      this.irqs[v] = m.irqs;
    } else if (m.t === "trace") {
      if (tracer.mask & TRACE_IOREQ) tracer.emit(m.record as TraceRecord);
    }
  }

  /** Stop every vCPU: they leave their loop (or their wait for an emulator) at the next check. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.unsubscribeTrace();
    Atomics.store(this.flags, 0, 1);
    Atomics.notify(this.flags, 0);
    Atomics.notify(this.flags, 1);
    const all = Promise.all(this.exits);
    const t = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs).unref());
    if ((await Promise.race([all.then(() => "ok" as const), t])) === "timeout")
      await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
