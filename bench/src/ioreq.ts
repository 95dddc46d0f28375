// `xensim bench ioreq`: a guest vCPU's emulated I/O through Xen's ioreq path to a device model, in
// one host process, beside a bare Atomics ping-pong measured in the same run.
//   - embedded: a host (startHost) runs the hypervisor, xenstored and the device-model service as
//     worker threads; an HVM domain gets its primary emulator (Start over the in-process call plane);
//     a vCPU worker thread (IoreqVcpu over the shared page store) times synchronous port reads from
//     trap to resume (`in` from COM1's LSR: select the server, write the slot, notify the emulator's
//     port, Atomics.wait on Xen's wake word; the device model's ioreq thread, blocked in Atomics.wait
//     on its vCPU's wake word, takes the READY slot, answers, notifies back), then issues single
//     4-byte stores into the VGA window (stdvga's buffered path; synchronous when the 511-slot ring
//     is full) back to back.
//   - embedded, event loop: the same with the device model's `ioreqThread` off — the emulator served
//     by the service's event loop (Atomics.waitAsync), for comparison in the same run.
//   - floor: main thread ↔ worker Atomics ping-pong, depth 1, the partner blocking in Atomics.wait,
//     and in Atomics.waitAsync (how the emulator's event receiver waits).
//   - distributed (with `pageServerEntry`): the same vCPU in host A (this process: hypervisor,
//     xenstored, page-server) and the device model in host process B (ioreq-host-b.ts, a child:
//     page-server and device-model with hypervisorHost "hostA"), over a real nats-server, gRPC and
//     the link — the ioreq pages are foreign-mapped there, every request and answer crosses the link.
//     The device model serves from its ioreq thread (Atomics.wait on this host's shadow of dom0's
//     shared_info, woken by the link thread after it applied the request's frames); then once more
//     from its event loop (`ioreqThread: false`), for comparison in the same run.
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { createInterface } from "node:readline";
import { Worker } from "node:worker_threads";
import { createGrpcCallClient, createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { loadDeviceModelProto, loadHypervisorProto, type StartReply__Output } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { findNatsServer, startNatsServer } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import type { IoreqWorkerData, VcpuReport } from "./ioreq-worker.js";
import { machineInfo, measure, type OpFigures, round } from "./stats.js";

export interface IoreqBenchOptions {
  hypervisorEntry: string;
  xenstoredEntry: string;
  deviceModelEntry: string;
  /** The page-server's entry: with it, the distributed row (the device model in another host process). */
  pageServerEntry?: string;
  /** Measuring time per row, ms (default 3000). */
  durationMs?: number;
  /** Slot checks the vCPU spins before Atomics.wait (default 0: block at once, as Xen's vCPU does). */
  spin?: number;
  log?: (line: string) => void;
}

export interface IoreqBenchResult {
  benchmark: "ioreq";
  machine: Record<string, unknown>;
  duration_ms: number;
  floor: { atomics_wait: OpFigures; atomics_waitasync: OpFigures };
  embedded: {
    /** One op = a synchronous port read, vCPU trap to resume. */
    sync_pio: OpFigures;
    /** sync_pio.p50_us ÷ floor.atomics_wait.p50_us (goal ≤ 2). */
    vs_floor_wait_p50: number;
    vs_floor_waitasync_p50: number;
    buffered: VcpuReport["buffered"];
    spin: number;
    /** Where the device model served the emulator: its own thread (Atomics.wait). */
    device_model: "ioreq-thread";
  };
  /** The same synchronous reads with the emulator on the service's event loop (Atomics.waitAsync). */
  embedded_event_loop: {
    sync_pio: OpFigures;
    vs_floor_wait_p50: number;
    vs_floor_waitasync_p50: number;
  };
  distributed:
    | { measured: false; reason: string }
    | {
        measured: true;
        /** One op = a synchronous port read, vCPU trap to resume, the emulator in host process B. */
        sync_pio: OpFigures;
        /** sync_pio.p50_us ÷ embedded.sync_pio.p50_us of the same run. */
        vs_embedded_p50: number;
        vs_floor_wait_p50: number;
        buffered: VcpuReport["buffered"];
        /** Where host B's device model served: its ioreq thread (Atomics.wait on the shadow). */
        device_model: "ioreq-thread";
      };
  /** The distributed synchronous reads with host B's emulator on its event loop (Atomics.waitAsync). */
  distributed_event_loop?: {
    sync_pio: OpFigures;
    vs_embedded_p50: number;
    vs_floor_wait_p50: number;
  };
}

function worker(data: IoreqWorkerData): {
  w: Worker;
  ready: Promise<void>;
  msg: Promise<unknown>;
  exited: Promise<void>;
} {
  const w = new Worker(new URL("./ioreq-worker.js", import.meta.url), { workerData: data });
  let done!: (m: unknown) => void;
  const msg = new Promise((r) => (done = r));
  const ready = new Promise<void>((resolve, reject) => {
    w.on("message", (m: { t: string; report?: unknown }) => {
      if (m.t === "ready") resolve();
      else if (m.t === "done") done(m.report);
    });
    w.once("error", reject);
  });
  const exited = new Promise<void>((r) => w.once("exit", () => r()));
  return { w, ready, msg, exited };
}

async function floor(mode: "echo-wait" | "echo-waitasync", durationMs: number): Promise<OpFigures> {
  const sab = new SharedArrayBuffer(8);
  const i32 = new Int32Array(sab);
  const p = worker({ mode, sab });
  await p.ready;
  let seq = 0;
  try {
    return await measure(durationMs, async () => {
      seq++;
      Atomics.store(i32, 0, seq);
      Atomics.notify(i32, 0);
      for (;;) {
        const v = Atomics.load(i32, 1);
        if (v === seq) return;
        Atomics.wait(i32, 1, v);
      }
    });
  } finally {
    Atomics.store(i32, 0, -1);
    Atomics.notify(i32, 0);
    await p.exited;
  }
}

const line = (name: string, f: OpFigures, extra = "") =>
  `${name.padEnd(40)} ${String(f.ops_per_s).padStart(8)} ops/s  p50 ${f.p50_us} µs  p99 ${f.p99_us} µs${extra}`;

async function embeddedRun(
  options: IoreqBenchOptions,
  durationMs: number,
  spin: number,
  ioreqThread: boolean,
): Promise<VcpuReport> {
  const host = await startHost({
    services: [
      { name: "hypervisor", entry: options.hypervisorEntry, config: {} },
      { name: "xenstored", entry: options.xenstoredEntry, config: {} },
      {
        name: "device-model",
        entry: options.deviceModelEntry,
        config: { roles: ["primary"], vcpu: 3, ioreqThread },
      },
    ],
    sharedMemoryBytes: 64 * 1024 * 1024,
    logLevel: "error",
  });
  try {
    await host.ready;
    const bus = createInProcessBus({ name: host.busName });
    const hv = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    const dom0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
    const { rc, domid } = await dom0.domainCreate({ memoryMib: 4, vcpus: 1, hvm: true });
    if (rc !== 0) throw new Error(`domainCreate: rc ${rc}`);
    const dm = createInProcessCallClient(
      loadDeviceModelProto().xensim.devicemodel.v1.DeviceModel.service,
      "device-model",
    );
    const st = await dm.call<object, StartReply__Output>("Start", {
      domid,
      name: "bench",
      role: "primary",
      vcpus: 1,
      restorePath: "",
    });
    if (st.rc !== 0) throw new Error(`device model Start: rc ${st.rc} ${st.error}`);
    await dom0.domainUnpause(domid);
    const v = worker({ mode: "vcpu", sab: host.sharedMemory!, domid, durationMs, warmupMs: 300, spin });
    await v.ready;
    const report = (await v.msg) as VcpuReport;
    await v.exited;
    dm.close();
    hv.close();
    dom0.close();
    await bus.close();
    return report;
  } finally {
    await host.stop();
  }
}

export async function runIoreqBench(options: IoreqBenchOptions): Promise<IoreqBenchResult> {
  const durationMs = options.durationMs ?? 3000;
  const spin = options.spin ?? 0;
  const log = options.log ?? (() => {});
  const wait = await floor("echo-wait", durationMs);
  log(line("floor: Atomics.wait ping-pong", wait));
  const wasync = await floor("echo-waitasync", durationMs);
  log(line("floor: Atomics.wait ↔ waitAsync ping-pong", wasync));

  const report = await embeddedRun(options, durationMs, spin, true);
  const sync = report.sync;
  const vsWait = round(sync.p50_us / wait.p50_us, 2);
  const vsAsync = round(sync.p50_us / wasync.p50_us, 2);
  log(
    line(
      "embedded: sync port read (trap → resume)",
      sync,
      `  = ${vsWait} × wait floor, ${vsAsync} × waitAsync floor`,
    ),
  );
  log(
    `embedded: buffered VGA stores                 ${String(report.buffered.writes_per_s).padStart(8)} writes/s  (${JSON.stringify(report.buffered.routes)})`,
  );
  const loop = (await embeddedRun(options, durationMs, spin, false)).sync;
  const loopVsWait = round(loop.p50_us / wait.p50_us, 2);
  const loopVsAsync = round(loop.p50_us / wasync.p50_us, 2);
  log(
    line(
      "embedded, dm on its event loop: sync read",
      loop,
      `  = ${loopVsWait} × wait floor, ${loopVsAsync} × waitAsync floor`,
    ),
  );
  let distributed: IoreqBenchResult["distributed"];
  let distributedLoop: IoreqBenchResult["distributed_event_loop"];
  if (!options.pageServerEntry)
    distributed = {
      measured: false,
      reason: "not asked for: the device model in another host process needs the page-server's entry",
    };
  else if (findNatsServer() === undefined)
    distributed = {
      measured: false,
      reason: "nats-server not installed (the device model in another host process needs it)",
    };
  else {
    const d = await runDistributed(options, options.pageServerEntry, durationMs, spin, true);
    const vsEmb = round(d.sync.p50_us / sync.p50_us, 2);
    const vsW = round(d.sync.p50_us / wait.p50_us, 2);
    log(
      line(
        "distributed: sync port read (trap → resume)",
        d.sync,
        `  = ${vsEmb} × embedded, ${vsW} × wait floor`,
      ),
    );
    log(
      `distributed: buffered VGA stores              ${String(d.buffered.writes_per_s).padStart(8)} writes/s  (${JSON.stringify(d.buffered.routes)})`,
    );
    distributed = {
      measured: true,
      sync_pio: d.sync,
      vs_embedded_p50: vsEmb,
      vs_floor_wait_p50: vsW,
      buffered: d.buffered,
      device_model: "ioreq-thread",
    };
    const dl = (await runDistributed(options, options.pageServerEntry, durationMs, spin, false)).sync;
    distributedLoop = {
      sync_pio: dl,
      vs_embedded_p50: round(dl.p50_us / sync.p50_us, 2),
      vs_floor_wait_p50: round(dl.p50_us / wait.p50_us, 2),
    };
    log(
      line(
        "distributed, dm on its event loop: sync read",
        dl,
        `  = ${distributedLoop.vs_embedded_p50} × embedded, ${distributedLoop.vs_floor_wait_p50} × wait floor`,
      ),
    );
  }
  return {
    benchmark: "ioreq",
    machine: { ...machineInfo(), cpus: cpus().length },
    duration_ms: durationMs,
    floor: { atomics_wait: wait, atomics_waitasync: wasync },
    embedded: {
      sync_pio: sync,
      vs_floor_wait_p50: vsWait,
      vs_floor_waitasync_p50: vsAsync,
      buffered: report.buffered,
      spin,
      device_model: "ioreq-thread",
    },
    embedded_event_loop: {
      sync_pio: loop,
      vs_floor_wait_p50: loopVsWait,
      vs_floor_waitasync_p50: loopVsAsync,
    },
    distributed,
    ...(distributedLoop ? { distributed_event_loop: distributedLoop } : {}),
  };
}

/** The vCPU in host A (this process), its device model in host process B (a child). */
async function runDistributed(
  options: IoreqBenchOptions,
  pageServerEntry: string,
  durationMs: number,
  spin: number,
  ioreqThread: boolean,
): Promise<VcpuReport> {
  const nats = await startNatsServer();
  const host = await startHost({
    hostId: "hostA",
    nats: nats.url,
    services: [
      { name: "hypervisor", entry: options.hypervisorEntry, config: {} },
      { name: "xenstored", entry: options.xenstoredEntry, config: {} },
      { name: "page-server", entry: pageServerEntry, config: {} },
    ],
    sharedMemoryBytes: 64 * 1024 * 1024,
    logLevel: "error",
  });
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await host.ready;
    const hvAddr = host.services.get("hypervisor")!.grpcAddress!;
    const xsAddr = host.services.get("xenstored")!.grpcAddress!;
    child = spawn(
      process.execPath,
      [
        new URL("./ioreq-host-b.js", import.meta.url).pathname,
        JSON.stringify({
          nats: nats.url,
          hv: hvAddr,
          xs: xsAddr,
          entries: { pageServer: pageServerEntry, deviceModel: options.deviceModelEntry },
          ioreqThread,
        }),
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    const exited = new Promise<void>((r) => child!.once("exit", () => r()));
    const dmAddr = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("ioreq bench: host B not ready in 60 s")), 60_000);
      void exited.then(() => reject(new Error("ioreq bench: host B exited")));
      createInterface({ input: child!.stdout! }).on("line", (l) => {
        try {
          const m = JSON.parse(l) as { dm?: string };
          if (m.dm) {
            clearTimeout(t);
            resolve(m.dm);
          }
        } catch {
          // log output
        }
      });
    });
    const hv = createGrpcCallClient(loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service, hvAddr);
    const dm = createGrpcCallClient(loadDeviceModelProto().xensim.devicemodel.v1.DeviceModel.service, dmAddr);
    const dom0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory });
    try {
      const { rc, domid } = await dom0.domainCreate({ memoryMib: 4, vcpus: 1, hvm: true });
      if (rc !== 0) throw new Error(`domainCreate: rc ${rc}`);
      const st = await dm.call<object, StartReply__Output>(
        "Start",
        { domid, name: "bench", role: "primary", vcpus: 1, restorePath: "" },
        { deadlineMs: 30_000 },
      );
      if (st.rc !== 0) throw new Error(`device model Start (host B): rc ${st.rc} ${st.error}`);
      await dom0.domainUnpause(domid);
      const v = worker({ mode: "vcpu", sab: host.sharedMemory!, domid, durationMs, warmupMs: 300, spin });
      await v.ready;
      const report = (await v.msg) as VcpuReport;
      await v.exited;
      return report;
    } finally {
      dm.close();
      hv.close();
      dom0.close();
    }
  } finally {
    if (child && child.exitCode === null) {
      child.stdin!.write("stop\n");
      const done = new Promise<void>((r) => child!.once("exit", () => r()));
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await host.stop();
    await nats.stop();
  }
}
