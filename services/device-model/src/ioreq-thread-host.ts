// The service's side of its ioreq thread (ioreq-thread.ts): start it, hand emulators over, reach
// their machines with requests (each followed by the doorbell), relay its trace records, stop it.

import { MessageChannel, Worker } from "node:worker_threads";
import type { EmulatorHandover, EmulatorRole, IrqLine, VgaTextScreen } from "@xensim/devicemodel";
import { EventChannels, wakeWordIndex } from "@xensim/evtchn";
import type { PageStore } from "@xensim/memory";
import { onTraceSwitch, TRACE_IOREQ, tracer } from "@xensim/trace";
import { threadLinkPrincipal } from "@xensim/security";
import {
  CTL,
  type EmulatorFigures,
  type IoreqThreadData,
  type ThreadMessage,
} from "./ioreq-thread-protocol.js";

type Request =
  | { kind: "add"; key: string; role: EmulatorRole; handover: EmulatorHandover; state: Uint8Array }
  | { kind: "remove"; key: string }
  | { kind: "save"; key: string }
  | { kind: "reset"; key: string }
  | { kind: "vgaText"; domid: number }
  | { kind: "output"; domid: number; serial: number; offset: number }
  | { kind: "input"; domid: number; serial: number; data: Uint8Array }
  | { kind: "list" };

export interface SerialOutput {
  data: Uint8Array;
  next: number;
  lost: number;
  transmitted: number;
}

export interface IoreqThreadOptions {
  store: PageStore;
  sab: SharedArrayBuffer;
  domid: number;
  vcpu: number;
  slowScanMs: number;
  onWarn: (message: string, domid?: number) => void;
  /** An emulated device's interrupt line changed (the thread's machines have no hypercalls). */
  onIrq?: (domid: number, line: IrqLine, level: 0 | 1) => void;
  /** The hypervisor in another host process (IoreqThreadData.remote; XenCtrl.placeEvents gave the frame). */
  remote?: { hypervisorHost: string; shadowFrame: number; linkTimeoutMs: number };
}

export class IoreqThread {
  private readonly worker: Worker;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL.words * 4));
  private readonly port;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private readonly txWaiters = new Set<() => void>();
  private readonly wake: number;
  private nextId = 1;
  private dead: Error | undefined;
  private readonly unsubscribeTrace: () => void;
  /** Console output notifications received (a waiter that saw it change re-reads at once). */
  txSeq = 0;

  constructor(private readonly options: IoreqThreadOptions) {
    // Our vCPU's wake word in dom0's shared_info (read only: the thread's own cores send), or in
    // this host's shadow of it when the hypervisor runs in another host process.
    const wakeFrame = options.remote
      ? options.remote.shadowFrame
      : new EventChannels(options.store, { notify: () => {} }).sharedInfo(options.domid).frames[0]!;
    this.wake = wakeWordIndex(wakeFrame, options.vcpu);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    Atomics.store(this.ctl, CTL.traceMask, tracer.mask & TRACE_IOREQ);
    this.unsubscribeTrace = onTraceSwitch((mask) => {
      Atomics.store(this.ctl, CTL.traceMask, mask & TRACE_IOREQ);
      this.doorbell();
    });
    const data: IoreqThreadData = {
      sab: options.sab,
      domid: options.domid,
      vcpu: options.vcpu,
      slowScanMs: options.slowScanMs,
      ctl: this.ctl,
      port: port2,
      ...(options.remote ? { remote: options.remote } : {}),
      // the service worker's principal (the runtime set it): the thread's foreign maps are the
      // device model's, which the hypervisor's host allows for its own guests (map-policy)
      ...(threadLinkPrincipal() ? { linkPrincipal: threadLinkPrincipal() } : {}),
    };
    this.worker = new Worker(new URL("./ioreq-thread.js", import.meta.url), {
      workerData: data,
      transferList: [port2],
    });
    port1.on("message", (m: ThreadMessage) => this.onMessage(m));
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on("error", (e) => {
      options.onWarn(`ioreq thread failed: ${e.stack ?? e.message}`);
      fail(e);
    });
    this.worker.on("exit", () => fail(new Error("the ioreq thread exited")));
  }

  private onMessage(fromThread: ThreadMessage): void {
    if (fromThread.kind === "reply") {
      const p = this.pending.get(fromThread.id);
      if (!p) return;
      this.pending.delete(fromThread.id);
      if (fromThread.ok) p.resolve(fromThread.value);
      else p.reject(new Error(fromThread.error ?? "request failed"));
    } else if (fromThread.kind === "tx") {
      this.txSeq++;
      for (const w of [...this.txWaiters]) w();
    } else if (fromThread.kind === "trace") {
      if (tracer.mask & TRACE_IOREQ) tracer.emit(fromThread.record);
    } else if (fromThread.kind === "irq")
      this.options.onIrq?.(fromThread.domid, fromThread.line, fromThread.level);
    else if (fromThread.kind === "warn") this.options.onWarn(fromThread.message, fromThread.domid);
  }

  /** evtchn_upcall_pending set on our vCPU and a wake: the thread leaves its wait and reads its messages. */
  private doorbell(): void {
    Atomics.or(this.options.store.i32, this.wake, 1);
    Atomics.notify(this.options.store.i32, this.wake);
  }

  private request<T>(toThread: Request): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.port.postMessage({ ...toThread, id });
      Atomics.store(this.ctl, CTL.mail, 1);
      this.doorbell();
    });
  }

  /** Serve an emulator registered by this thread: its pages and ports, and its machine's state. */
  add(key: string, role: EmulatorRole, handover: EmulatorHandover, state: Uint8Array): Promise<void> {
    return this.request({ kind: "add", key, role, handover, state });
  }
  /** Stop serving it (before it is unregistered). */
  remove(key: string): Promise<boolean> {
    return this.request({ kind: "remove", key });
  }
  /** The machine's saved state (encodeMachineState), after handling what is queued. */
  save(key: string): Promise<Uint8Array | undefined> {
    return this.request({ kind: "save", key });
  }
  /** The VGA text screen of `domid`'s primary machine. */
  vgaText(domid: number): Promise<VgaTextScreen | undefined> {
    return this.request({ kind: "vgaText", domid });
  }
  /** QMP system_reset: the machine's devices to their power-on state. */
  reset(key: string): Promise<boolean> {
    return this.request({ kind: "reset", key });
  }
  output(domid: number, serial: number, offset: number): Promise<SerialOutput | undefined> {
    return this.request({ kind: "output", domid, serial, offset });
  }
  input(domid: number, serial: number, data: Uint8Array): Promise<number | undefined> {
    return this.request({ kind: "input", domid, serial, data });
  }
  list(): Promise<Record<string, EmulatorFigures>> {
    return this.request({ kind: "list" });
  }

  /** Requests answered and buffered writes handled, over every emulator ever served (wrapping). */
  counts(): { synchronous: number; buffered: number } {
    return {
      synchronous: Atomics.load(this.ctl, CTL.synchronous) >>> 0,
      buffered: Atomics.load(this.ctl, CTL.buffered) >>> 0,
    };
  }

  /** Resolves on the next console output (or after `ms`). */
  waitOutput(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.txWaiters.delete(done);
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.txWaiters.add(done);
      Atomics.store(this.ctl, CTL.txWanted, 1);
    });
  }

  /** Ask for an output notification before reading (so none is missed between the read and the wait). */
  wantOutput(): void {
    Atomics.store(this.ctl, CTL.txWanted, 1);
  }

  async close(): Promise<void> {
    this.unsubscribeTrace();
    Atomics.store(this.ctl, CTL.stop, 1);
    const exited = new Promise<void>((r) => this.worker.once("exit", () => r()));
    this.doorbell();
    const t = setTimeout(() => void this.worker.terminate(), 3000);
    await exited;
    clearTimeout(t);
    this.port.close();
  }
}
