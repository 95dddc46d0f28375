// One vCPU of an HVM guest, on its own thread (it blocks in Atomics.wait while Xen waits for an
// emulator, as a real vCPU is descheduled): vCPU 0 runs the BIOS, programs the vPIC and takes
// interrupts (COM1's receive interrupt echoes console input; the RTC's periodic one is counted), then
// every vCPU idles in a loop — HLT until an interrupt or the next heartbeat — and, when asked, prints
// heartbeat lines: vCPU 0 on COM1 (with its interrupt counts), the others on the PCI serial port
// when a second emulator provides one. Xen's side of each access is
// @xensim/ioreq's IoreqVcpu over the host's page store.

import { parentPort, workerData } from "node:worker_threads";
import { EventChannels } from "@xensim/evtchn";
import { Bios, COM1, Cpu, type FirmwareSettings, type GuestRam } from "@xensim/guest";
import { DomainCrashed, IoreqVcpu, VcpuStopped } from "@xensim/ioreq";
import { PAGE_SIZE, PageStore } from "@xensim/memory";
import { setTracer, tracer, type TraceRecord } from "@xensim/trace";
import { makeNotify } from "@xensim/xenctrl";

export interface VcpuWorkerData {
  sab: SharedArrayBuffer;
  domid: number;
  vcpu: number;
  name: string;
  settings: FirmwareSettings;
  /** [0] stop request, [1] vCPU 0 done booting (APs wait for it), [2] the ioreq trace mask. */
  flags: Int32Array;
  /** Guest physical page this vCPU uses as a string buffer. */
  scratchGpa: number;
}

export type VcpuMessage =
  | { t: "booted"; report: unknown }
  | { t: "crash"; reason: string }
  | { t: "stopped"; why: string }
  | { t: "error"; error: string }
  | { t: "stats"; routes: Record<string, number>; irqs: Record<string, number> }
  /** An ioreq trace record of Xen's side, stamped with the monotonic clock here. */
  | { t: "trace"; record: TraceRecord };

const d = workerData as VcpuWorkerData;
const post = (m: VcpuMessage) => parentPort!.postMessage(m);
const store = PageStore.attach(d.sab);
const ev: EventChannels = new EventChannels(store, { notify: makeNotify({ store, evtchn: () => ev }) });
const alive = () => Atomics.load(d.flags, 0) === 0 && store.domainExists(d.domid);
const io = new IoreqVcpu({
  store,
  ev,
  domid: d.domid,
  vcpu: d.vcpu,
  alive,
  onCrash: (reason) => post({ t: "crash", reason }),
});
const ram: GuestRam = {
  read(gpa, len) {
    const out = new Uint8Array(len);
    for (let done = 0; done < len;) {
      const a = gpa + done;
      const frame = store.gfnToFrame(d.domid, Math.floor(a / PAGE_SIZE));
      const n = Math.min(len - done, PAGE_SIZE - (a % PAGE_SIZE));
      if (frame)
        out.set(
          store.u8.subarray(frame * PAGE_SIZE + (a % PAGE_SIZE), frame * PAGE_SIZE + (a % PAGE_SIZE) + n),
          done,
        );
      done += n;
    }
    return out;
  },
  write(gpa, bytes) {
    for (let done = 0; done < bytes.length;) {
      const a = gpa + done;
      const frame = store.gfnToFrame(d.domid, Math.floor(a / PAGE_SIZE));
      const n = Math.min(bytes.length - done, PAGE_SIZE - (a % PAGE_SIZE));
      if (frame) {
        store.u8.set(bytes.subarray(done, done + n), frame * PAGE_SIZE + (a % PAGE_SIZE));
        // Published: a device model in another host process may map this page (rep outs buffers).
        store.markWritten(frame, a % PAGE_SIZE, n);
      }
      done += n;
    }
  },
};
// The trace switch, as the guest service's thread sets it (this thread never hears the bus).
const relay = (record: TraceRecord) => {
  record.t = Number(process.hrtime.bigint());
  post({ t: "trace", record });
};
const cpu = new Cpu(
  {
    emulate(req) {
      const mask = Atomics.load(d.flags, 2);
      if (mask !== tracer.mask) setTracer(mask, relay);
      return io.emulate(req);
    },
    takeInterrupt: () => io.takeInterrupt(),
    halt: (ms) => io.halt(ms),
  },
  ram,
);
const bios = new Bios(cpu, ram, {
  name: d.name,
  scratchGpa: d.scratchGpa,
  storeBytes: d.settings.storeBytes,
});
const sleep = (ms: number) => Atomics.wait(d.flags, 0, 0, ms);

function run(): void {
  let serialBase: number | undefined;
  if (d.vcpu === 0) {
    if (d.settings.bios) {
      const report = bios.run();
      post({ t: "booted", report });
    }
    Atomics.store(d.flags, 1, 1);
    Atomics.notify(d.flags, 1);
    // From here on the firmware runs on interrupts (the vPIC delivers to vCPU 0 only).
    if (d.settings.echo || d.settings.rtcHz) {
      bios.initPic();
      if (d.settings.echo) bios.enableConsoleInterrupt();
      if (d.settings.rtcHz) bios.enableRtcPeriodic(d.settings.rtcHz);
      cpu.sti();
    }
  } else {
    while (alive() && Atomics.load(d.flags, 1) === 0) Atomics.wait(d.flags, 1, 0, 50);
    // An AP's driver: the PCI serial port, if another emulator provides one.
    const ser = bios
      .probePci()
      .find((p) => p.vendor === 0x1b36 && p.device === 0x0002 && p.bar0.io && p.bar0.size);
    serialBase = ser?.bar0.base;
  }
  let beat = 0;
  let lastBeat = Date.now();
  let lastStats = Date.now();
  while (alive()) {
    const wait =
      d.settings.heartbeatMs > 0 ? Math.min(d.settings.pollMs, d.settings.heartbeatMs) : d.settings.pollMs;
    if (d.vcpu === 0 && cpu.interruptsEnabled) cpu.hlt(wait);
    else sleep(wait);
    if (!alive()) break;
    const now = Date.now();
    if (d.settings.heartbeatMs > 0 && now - lastBeat >= d.settings.heartbeatMs) {
      lastBeat = now;
      beat++;
      if (d.vcpu === 0) {
        const c = bios.irqCounts;
        bios.heartbeat(
          COM1,
          `vcpu0 heartbeat ${beat} (irq4 ${c.com1}, irq8 ${c.rtc}, rtc periodic ${c.rtcPeriodic})`,
        );
      } else if (serialBase !== undefined) bios.heartbeat(serialBase, `vcpu${d.vcpu} heartbeat ${beat}`);
    }
    if (now - lastStats >= 1000) {
      lastStats = now;
      post({
        t: "stats",
        routes: { ...cpu.routes },
        irqs: { ...bios.irqCounts, taken: cpu.interrupts.total },
      });
    }
  }
}

try {
  run();
  post({ t: "stopped", why: "stop requested or domain gone" });
} catch (e) {
  if (e instanceof DomainCrashed) post({ t: "crash", reason: e.reason });
  else if (e instanceof VcpuStopped) post({ t: "stopped", why: e.message });
  else post({ t: "error", error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
