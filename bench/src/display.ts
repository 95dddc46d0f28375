// `xensim bench display`: page flips per second and flip-to-event latency of the para-virtual
// display (guest displfront → request ring → displback composing the scanout → event page) at
// 640×480 and 1920×1080 XRGB8888, embedded (one host process: hypervisor, xenstored and displback
// as worker threads, the guest in the bench's main thread) and distributed (the guest's host in a
// child process, displback in the bench process with hypervisorHost "hostA", over a real
// nats-server and gRPC for the control plane; ring slots, event page and buffer pages cross on the
// link between the page-servers). Beside them, in the same run,
// the copy ceiling: how many frames a single thread copies out of a SharedArrayBuffer per second.
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { createInterface } from "node:readline";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { buildGuest, GuestKernel } from "@xensim/guest";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { startNatsServer } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore } from "@xensim/xenstore-client";
import { type DisplayRunFigures, type DisplayRunSpec, runDisplayFlips } from "./display-run.js";
import { machineInfo } from "./stats.js";

export const DISPLAY_PLACEMENTS = ["embedded", "distributed"] as const;
export type DisplayPlacement = (typeof DISPLAY_PLACEMENTS)[number];

export interface DisplayBenchOptions {
  entries: { hypervisor: string; xenstored: string; displback: string; pageServer: string };
  resolutions: { width: number; height: number }[];
  placements: DisplayPlacement[];
  durationMs: number;
  rampMs?: number;
  natsUrl?: string;
  log?: (line: string) => void;
}

export interface DisplayBenchResult {
  benchmark: "display";
  date: string;
  machine: Record<string, unknown>;
  duration_ms: number;
  /** Frames of each size one thread copies per second (SharedArrayBuffer → Uint8Array). */
  copy_ceiling: { width: number; height: number; frames_per_s: number }[];
  runs: (DisplayRunFigures & { placement: DisplayPlacement })[];
}

/** Best of three 300 ms rounds (after a warm-up) of row-by-row frame copies out of a SharedArrayBuffer. */
function copyCeiling(width: number, height: number): number {
  const bytes = width * height * 4;
  const src = new Uint8Array(new SharedArrayBuffer(bytes));
  const dst = new Uint8Array(bytes);
  const round = (ms: number) => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      for (let row = 0; row < height; row++)
        dst.set(src.subarray(row * width * 4, (row + 1) * width * 4), row * width * 4);
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  round(100);
  return Math.round(Math.max(round(300), round(300), round(300)));
}

async function embedded(options: DisplayBenchOptions, specs: DisplayRunSpec[]): Promise<DisplayRunFigures[]> {
  const host = await startHost({
    services: [
      { name: "hypervisor", entry: options.entries.hypervisor, config: {} },
      { name: "xenstored", entry: options.entries.xenstored, config: {} },
      { name: "displback", entry: options.entries.displback, config: {} },
    ],
    sharedMemoryBytes: 512 << 20,
    logLevel: process.env.XENSIM_LOG_LEVEL ?? "warn",
  });
  await host.ready;
  const bus = createInProcessBus({ name: host.busName });
  const hv = createInProcessCallClient(
    loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
    "hypervisor",
  );
  const xsCalls = createInProcessCallClient(
    loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
    "xenstored",
  );
  const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
  const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory });
  try {
    const g = await buildGuest(xc0, xs0, { name: "bench-display", memoryMib: 128 });
    const xc = new XenCtrl({ domid: g.domid, calls: hv, store: host.sharedMemory, bus });
    await xc.gnttabSetupTable(g.domid, 32);
    const kernel = new GuestKernel({ domid: g.domid, xc, ramPages: g.ramPages, slowScanMs: 50 });
    const guestXs = await kernel.connectXenstore(g.storeGfn, g.storePort);
    const out: DisplayRunFigures[] = [];
    for (const spec of specs) out.push(await runDisplayFlips({ xs0, guestXs, kernel, domid: g.domid, spec }));
    await kernel.close();
    xc.close();
    return out;
  } finally {
    xc0.close();
    await xs0.close();
    hv.close();
    xsCalls.close();
    await bus.close();
    await host.stop();
  }
}

async function distributed(
  options: DisplayBenchOptions,
  specs: DisplayRunSpec[],
): Promise<DisplayRunFigures[]> {
  const nats = options.natsUrl ? undefined : await startNatsServer();
  const natsUrl = options.natsUrl ?? nats!.url;
  const child = spawn(
    process.execPath,
    [
      new URL("./display-host-a.js", import.meta.url).pathname,
      JSON.stringify({
        nats: natsUrl,
        entries: {
          hypervisor: options.entries.hypervisor,
          xenstored: options.entries.xenstored,
          pageServer: options.entries.pageServer,
        },
      }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on("line", (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
      wake?.();
    } catch {
      // not ours
    }
  });
  let dead = false;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  void exited.then(() => {
    dead = true;
    wake?.();
  });
  const next = async (key: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = lines.findIndex((l) => key in l);
      if (i >= 0) return lines.splice(i, 1)[0]!;
      if (dead) throw new Error(`host A exited before '${key}'`);
      if (Date.now() > until) throw new Error(`host A: no '${key}' within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 250);
      });
    }
  };
  let hostB: Awaited<ReturnType<typeof startHost>> | undefined;
  try {
    const ready = await next("hv", 60_000);
    hostB = await startHost({
      hostId: "hostB",
      nats: natsUrl,
      services: [
        { name: "page-server", entry: options.entries.pageServer, config: {} },
        {
          name: "displback",
          entry: options.entries.displback,
          config: { hypervisor: ready.hv, xenstored: ready.xs, hypervisorHost: "hostA" },
        },
      ],
      sharedMemoryBytes: 512 << 20,
      logLevel: process.env.XENSIM_LOG_LEVEL ?? "warn",
    });
    await hostB.ready;
    const out: DisplayRunFigures[] = [];
    for (const spec of specs) {
      child.stdin!.write(`run ${JSON.stringify(spec)}\n`);
      const r = await next("done", spec.durationMs + spec.rampMs + 120_000);
      if (typeof r.error === "string") throw new Error(`host A: ${r.error}`);
      out.push(r.result as DisplayRunFigures);
    }
    return out;
  } finally {
    // displback first (it unmaps through host A's hypervisor), then host A.
    await hostB?.stop().catch(() => {});
    if (!dead) child.stdin!.write("stop\n");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (!dead) child.kill("SIGKILL");
    await nats?.stop();
  }
}

export async function runDisplayBench(options: DisplayBenchOptions): Promise<DisplayBenchResult> {
  const log = options.log ?? (() => {});
  const specs: DisplayRunSpec[] = options.resolutions.map((r, i) => ({
    ...r,
    durationMs: options.durationMs,
    rampMs: options.rampMs ?? 300,
    devid: i,
  }));
  const result: DisplayBenchResult = {
    benchmark: "display",
    date: new Date().toISOString(),
    machine: { ...machineInfo(), cpus: cpus().length },
    duration_ms: options.durationMs,
    copy_ceiling: options.resolutions.map((r) => ({ ...r, frames_per_s: copyCeiling(r.width, r.height) })),
    runs: [],
  };
  for (const placement of options.placements) {
    const figs =
      placement === "embedded" ? await embedded(options, specs) : await distributed(options, specs);
    for (const f of figs) {
      result.runs.push({ placement, ...f });
      log(
        `${placement.padEnd(12)} ${`${f.width}x${f.height}`.padEnd(10)} ${String(f.flips.ops_per_s).padStart(7)} flips/s  flip→event p50 ${f.flips.p50_us} µs  p99 ${f.flips.p99_us} µs  (${f.flips.ops} flips, ${f.errors} errors)`,
      );
    }
  }
  return result;
}

/** The markdown table of a result (bench/README.md). */
export function displayTable(r: DisplayBenchResult): string {
  const ceiling = (w: number, h: number) =>
    r.copy_ceiling.find((c) => c.width === w && c.height === h)?.frames_per_s;
  const lines = [
    "| placement | resolution | buffer pages | flips/s | flip→event p50 µs | p99 µs | frame-copy ceiling /s |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const x of r.runs)
    lines.push(
      `| ${x.placement} | ${x.width}×${x.height} | ${x.buffer_pages} | ${x.flips.ops_per_s} | ${x.flips.p50_us} | ${x.flips.p99_us} | ${ceiling(x.width, x.height) ?? "-"} |`,
    );
  return lines.join("\n");
}
