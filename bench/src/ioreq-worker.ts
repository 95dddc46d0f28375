// The worker threads of `xensim bench ioreq`:
//   - "vcpu": a guest vCPU (@xensim/ioreq's IoreqVcpu through @xensim/guest's Cpu on the host's page
//     store): synchronous port reads (in from COM1's LSR) timed from trap to resume, then single
//     4-byte stores into the VGA window (Xen's buffered path, synchronous when the ring is full).
//   - "echo-wait" / "echo-waitasync": the floor, a bare Atomics ping-pong partner (Int32 0 is the
//     pinger's sequence number, 1 the echo; -1 stops it).
import { parentPort, workerData } from "node:worker_threads";
import { EventChannels } from "@xensim/evtchn";
import { Cpu, type GuestRam } from "@xensim/guest";
import { IoreqVcpu } from "@xensim/ioreq";
import { PageStore } from "@xensim/memory";
import { makeNotify } from "@xensim/xenctrl";
import { LatencyRecorder } from "./stats.js";

export type IoreqWorkerData =
  | {
      mode: "vcpu";
      sab: SharedArrayBuffer;
      domid: number;
      durationMs: number;
      warmupMs: number;
      spin: number;
    }
  | { mode: "echo-wait" | "echo-waitasync"; sab: SharedArrayBuffer };

export interface VcpuReport {
  sync: ReturnType<LatencyRecorder["figures"]>;
  buffered: { writes: number; seconds: number; writes_per_s: number; routes: Record<string, number> };
}

type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const d = workerData as IoreqWorkerData;
const port = parentPort!;

if (d.mode === "vcpu") {
  const store = PageStore.attach(d.sab);
  const ev: EventChannels = new EventChannels(store, { notify: makeNotify({ store, evtchn: () => ev }) });
  const io = new IoreqVcpu({ store, ev, domid: d.domid, vcpu: 0, spin: d.spin });
  const noRam: GuestRam = { read: (_g, n) => new Uint8Array(n), write: () => {} };
  const cpu = new Cpu(io, noRam);
  port.postMessage({ t: "ready" });
  // Synchronous: `in al, 0x3fd` (COM1's LSR), one at a time.
  const warm = performance.now() + d.warmupMs;
  while (performance.now() < warm) cpu.inb(0x3fd);
  const rec = new LatencyRecorder();
  rec.start();
  const end = performance.now() + d.durationMs;
  for (;;) {
    const t0 = performance.now();
    cpu.inb(0x3fd);
    const t1 = performance.now();
    rec.add((t1 - t0) * 1000);
    if (t1 >= end) break;
  }
  rec.stop();
  // Buffered: 4-byte stores into the VGA window, back to back; a final read drains the ring
  // (the emulator handles buffered entries before a synchronous request).
  const before = { ...cpu.routes };
  const t0 = performance.now();
  const bend = t0 + d.durationMs;
  let writes = 0;
  while (performance.now() < bend) {
    for (let i = 0; i < 256; i++) cpu.write32(0xa0000 + ((writes + i) % 16000) * 4, writes + i);
    writes += 256;
  }
  cpu.read32(0xa0000);
  const seconds = (performance.now() - t0) / 1000;
  const routes: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpu.routes)) routes[k] = v - (before[k as keyof typeof before] ?? 0);
  const report: VcpuReport = {
    sync: rec.figures(),
    buffered: {
      writes,
      seconds: Math.round(seconds * 1000) / 1000,
      writes_per_s: Math.round(writes / seconds),
      routes,
    },
  };
  port.postMessage({ t: "done", report });
  port.close();
} else {
  const i32 = new Int32Array(d.sab);
  const keepAlive = setInterval(() => {}, 60_000);
  port.postMessage({ t: "ready" });
  let last = 0;
  for (;;) {
    const v = Atomics.load(i32, 0);
    if (v === -1) break;
    if (v !== last) {
      last = v;
      Atomics.store(i32, 1, v);
      Atomics.notify(i32, 1);
      continue;
    }
    if (d.mode === "echo-wait") Atomics.wait(i32, 0, v);
    else {
      const r = waitAsync(i32, 0, v);
      if (r.async) await r.value;
    }
  }
  clearInterval(keepAlive);
  port.close();
}
