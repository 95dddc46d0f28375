// `xensim bench hypervisor`: grant map+unmap and event-channel latency through XenCtrl, in both
// placements, beside a bare Atomics ping-pong measured in the same run.
//   - grants, in-process: an embedded host (startHost) runs the hypervisor in a worker thread; two
//     domains; A grants pages to B; B maps and unmaps them with a XenCtrl on the host's buffer —
//     atomics through @xensim/gnttab, no call. One ref per map call, and `batch` refs per call.
//   - grants, gRPC: the same against a standalone hypervisor process
//     (`node <hypervisor main.js> --grpc-listen 127.0.0.1:0`), each map and each unmap a unary call.
//   - events, in-process: A (main thread) sends on channel 1; B's receiver runs in a worker thread
//     (its own XenCtrl on the host's buffer, waitForEvents with Atomics wake-ups) and answers on
//     channel 2 with evtchnNotify; A's own waitForEvents sees it. Round trip / 2 = one way.
//   - events, across host processes over the link: A's guest (main thread of host A, which runs the
//     hypervisor and a page-server) sends on a channel bound by dom0 in host process B (a child: a
//     page-server and dom0's XenCtrl with the hypervisor in A); the evtchn core routes the event
//     (dom0's vCPU 6 is placed at B) into an EVENT record on A's link; B's link thread sets it
//     pending in its shadow shared_info and wakes B's receiver, which kicks back: a SEND record to
//     A, executed by A's link thread through the same evtchn core. Beside it a NATS publish →
//     receive ping-pong between the same two processes, same run.
//   - grants over the link: B maps and unmaps the guest's grants (REQUEST records to A, executed
//     by A's link thread through the gnttab core).
//   - floor: main thread ↔ worker Atomics ping-pong, depth 1 (Atomics.wait on both sides, and
//     Atomics.waitAsync on both sides as EvtchnPort uses it); and one gRPC unary call (DomainInfo)
//     on the connection of the grpc grant rows, just before them.
import { type ChildProcess, spawn } from "node:child_process";
import { cpus } from "node:os";
import { createInterface } from "node:readline";
import { Worker } from "node:worker_threads";
import { GNTMAP_host_map, GNTST_okay } from "@xensim/abi";
import {
  type CallClient,
  connectNatsBus,
  createGrpcCallClient,
  createInProcessCallClient,
} from "@xensim/bus";
import { loadHypervisorProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { startNatsServer } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import type { HypervisorWorkerData } from "./hypervisor-worker.js";
import { machineInfo, measure, measureSync, type OpFigures, round } from "./stats.js";

export interface HypervisorBenchOptions {
  /** Path of services/hypervisor/dist/main.js (embedded in a host, and spawned standalone). */
  hypervisorEntry: string;
  /** Path of services/page-server/dist/main.js (the link of the cross-host rows). */
  pageServerEntry: string;
  /** NATS url (the control plane of the cross-host rows); without it the bench starts one. */
  natsUrl?: string;
  /** Measuring time per row, ms (default 2000). */
  durationMs?: number;
  /** Refs per map/unmap call in the batched rows (default 32). */
  batch?: number;
  log?: (line: string) => void;
}

export interface PingPongFigures {
  /** Round trips, depth 1 (ops_per_s = round trips/s). */
  round_trip: OpFigures;
  one_way_p50_us: number;
  one_way_p99_us: number;
  /** Events delivered per second: two per round trip (one each way). */
  events_per_s: number;
}

export interface GrantFigures {
  placement: "in-process" | "link" | "grpc";
  /** Refs per map call (and per unmap call). */
  batch: number;
  /** One op = one map call of `batch` refs + one unmap call of their handles. */
  figures: OpFigures;
  grants_per_s: number;
  /** In-process rows: grants per second of this thread's CPU time (what machine load bends least). */
  grants_per_cpu_s?: number;
}

export interface EventFigures extends PingPongFigures {
  placement: "in-process-atomics" | "link";
  /** one_way_p50_us ÷ the NATS publish → receive one way p50 of the same run. */
  vs_nats_p50: number;
  /** one_way_p50_us ÷ floor.atomics_waitasync.one_way_p50_us. */
  vs_floor_waitasync_p50: number;
  /** one_way_p50_us ÷ floor.atomics_wait.one_way_p50_us. */
  vs_floor_wait_p50: number;
}

export interface HypervisorBenchResult {
  benchmark: "hypervisor";
  machine: Record<string, unknown>;
  duration_ms: number;
  floor: {
    atomics_wait: PingPongFigures;
    atomics_waitasync: PingPongFigures;
    /** DomainInfo(0) over the same gRPC connection as the grpc grant rows (one unary call). */
    grpc_unary: OpFigures;
    /** NATS publish → receive between the two host processes (round trip ÷ 2), same run. */
    nats_pub_recv: PingPongFigures;
  };
  grants: GrantFigures[];
  events: EventFigures[];
}

const def = () => loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
const GRANT_REF0 = 8;
const GRANT_GFN0 = 16;

function pingPong(round_trip: OpFigures): PingPongFigures {
  return {
    round_trip,
    one_way_p50_us: round(round_trip.p50_us / 2, 1),
    one_way_p99_us: round(round_trip.p99_us / 2, 1),
    events_per_s: round_trip.ops_per_s * 2,
  };
}

function line(name: string, f: OpFigures, extra = ""): string {
  return `${name.padEnd(34)} ${String(f.ops_per_s).padStart(9)} ops/s  p50 ${f.p50_us} µs  p99 ${f.p99_us} µs${extra}`;
}

type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

function startWorker(data: HypervisorWorkerData): {
  worker: Worker;
  ready: Promise<void>;
  exited: Promise<void>;
} {
  const worker = new Worker(new URL("./hypervisor-worker.js", import.meta.url), { workerData: data });
  const exited = new Promise<void>((r) => worker.once("exit", () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    worker.once("message", (m) => (m === "ready" ? resolve() : reject(new Error(`worker: ${String(m)}`))));
    worker.once("error", reject);
    worker.once("exit", (c) => reject(new Error(`worker exited (${c}) before ready`)));
  });
  return { worker, ready, exited };
}

/** Ends a worker: the way it was asked to stop, else terminate() after 3 s. */
async function endWorker(w: { worker: Worker; exited: Promise<void> }): Promise<void> {
  const t = setTimeout(() => void w.worker.terminate(), 3000);
  await w.exited;
  clearTimeout(t);
}

async function atomicsFloor(mode: "floor-wait" | "floor-waitasync", durationMs: number): Promise<OpFigures> {
  const sab = new SharedArrayBuffer(8);
  const i32 = new Int32Array(sab);
  const w = startWorker({ mode, sab });
  try {
    await w.ready;
    let seq = 0;
    const op =
      mode === "floor-wait"
        ? async () => {
            seq++;
            Atomics.store(i32, 0, seq);
            Atomics.notify(i32, 0);
            for (;;) {
              const v = Atomics.load(i32, 1);
              if (v === seq) return;
              Atomics.wait(i32, 1, v);
            }
          }
        : async () => {
            seq++;
            Atomics.store(i32, 0, seq);
            Atomics.notify(i32, 0);
            for (;;) {
              const v = Atomics.load(i32, 1);
              if (v === seq) return;
              const r = waitAsync(i32, 1, v);
              if (r.async) await r.value;
            }
          };
    return await measure(durationMs, op);
  } finally {
    Atomics.store(i32, 0, -1);
    Atomics.notify(i32, 0);
    await endWorker(w);
  }
}

interface Domains {
  a: number;
  b: number;
}

async function createDomains(dom0: XenCtrl): Promise<Domains> {
  const a = await dom0.domainCreate({ memoryMib: 1 });
  const b = await dom0.domainCreate({ memoryMib: 1 });
  if (a.rc !== 0 || b.rc !== 0) throw new Error(`domainCreate: rc ${a.rc}, ${b.rc}`);
  for (const d of [a.domid, b.domid]) {
    const rc = await dom0.domainUnpause(d);
    if (rc !== 0) throw new Error(`domainUnpause(${d}) = ${rc}`);
  }
  return { a: a.domid, b: b.domid };
}

/** A grants `batch` pages to B, then B maps+unmaps them, once per ref and `batch` refs per call. */
async function grantRows(
  placement: GrantFigures["placement"],
  xa: XenCtrl,
  xb: XenCtrl,
  doms: Domains,
  batch: number,
  durationMs: number,
  log: (l: string) => void,
): Promise<GrantFigures[]> {
  const refs = Array.from({ length: batch }, (_, i) => GRANT_REF0 + i);
  for (const [i, ref] of refs.entries()) {
    const rc = await xa.gnttabGrantAccess(ref, doms.b, GRANT_GFN0 + i, false);
    if (rc !== 0) throw new Error(`gnttabGrantAccess(${ref}) = ${rc}`);
  }
  const out: GrantFigures[] = [];
  for (const n of [1, batch]) {
    const these = refs.slice(0, n);
    const op = async () => {
      const m = await xb.gnttabMapGrantRefs(doms.a, these, GNTMAP_host_map);
      const handles = m.results.map((r) => {
        if (r.status !== GNTST_okay) throw new Error(`map status ${r.status}`);
        return r.handle;
      });
      const st = await xb.gnttabUnmap(handles);
      if (st.some((s) => s !== GNTST_okay)) throw new Error(`unmap status ${st.join(",")}`);
    };
    // In one host process the map and unmap are synchronous (atomics on the shared buffer): timed
    // without a promise per call, as a C caller pays them.
    // One ref per call goes through the per-segment API (handle or status, no object per call).
    const ref0 = these[0]!;
    const oneSync = () => {
      const h = xb.gnttabMapGrantRefSync(doms.a, ref0, GNTMAP_host_map)!;
      if (h < 0) throw new Error(`map status ${h}`);
      const st = xb.gnttabUnmapGrantRefSync(h)!;
      if (st !== GNTST_okay) throw new Error(`unmap status ${st}`);
    };
    const syncOp =
      placement === "in-process" && xb.gnttabMapGrantRefsSync(doms.a, [], GNTMAP_host_map) !== undefined
        ? n === 1
          ? oneSync
          : () => {
              const m = xb.gnttabMapGrantRefsSync(doms.a, these, GNTMAP_host_map)!;
              const handles: number[] = [];
              for (const r of m.results) {
                if (r.status !== GNTST_okay) throw new Error(`map status ${r.status}`);
                handles.push(r.handle);
              }
              const st = xb.gnttabUnmapSync(handles)!;
              for (const s of st) if (s !== GNTST_okay) throw new Error(`unmap status ${st.join(",")}`);
            }
        : undefined;
    const sync = syncOp ? measureSync(durationMs, syncOp, 200, n === 1 ? 16 : 1) : undefined;
    const figures: OpFigures = sync ?? (await measure(durationMs, op));
    const row: GrantFigures = { placement, batch: n, figures, grants_per_s: figures.ops_per_s * n };
    if (sync) row.grants_per_cpu_s = sync.ops_per_cpu_s * n;
    log(
      line(
        `grant map+unmap ${placement} ×${n}`,
        figures,
        `  → ${row.grants_per_s} grants/s${row.grants_per_cpu_s !== undefined ? ` (${row.grants_per_cpu_s} per CPU-second)` : ""}`,
      ),
    );
    out.push(row);
  }
  for (const ref of refs) {
    if (!(await xa.gnttabEndAccess(ref))) throw new Error(`gnttabEndAccess(${ref}): still mapped`);
  }
  return out;
}

/** Channel 1 A → B (B's port `b1`, A's `a1`) and channel 2 B → A (A's `a2`, B's `b2`). */
async function bindChannels(xa: XenCtrl, xb: XenCtrl, doms: Domains) {
  const b1 = await xb.evtchnAllocUnbound(doms.b, doms.a);
  const a1 = await xa.evtchnBindInterdomain(doms.b, b1.port);
  const a2 = await xa.evtchnAllocUnbound(doms.a, doms.b);
  const b2 = await xb.evtchnBindInterdomain(doms.a, a2.port);
  for (const r of [b1, a1, a2, b2]) if (r.rc !== 0) throw new Error(`evtchn bind rc ${r.rc}`);
  return { a1: a1.port, b1: b1.port, a2: a2.port, b2: b2.port };
}

type Channels = Awaited<ReturnType<typeof bindChannels>>;

/** A ping-pong op: send on `send`, resolve when the answer reaches A's receiver. */
function pingPongOp(send: () => number): { op: () => Promise<void>; onReply: () => void } {
  let waiter: (() => void) | null = null;
  return {
    onReply() {
      const w = waiter;
      waiter = null;
      w?.();
    },
    op() {
      return new Promise<void>((resolve) => {
        waiter = resolve;
        const rc = send();
        if (rc !== 0) throw new Error(`evtchnNotify = ${rc}`);
      });
    },
  };
}

async function eventsInProcess(
  sab: SharedArrayBuffer,
  calls: CallClient,
  doms: Domains,
  ch: Channels,
  durationMs: number,
): Promise<OpFigures> {
  const xa = new XenCtrl({ domid: doms.a, calls, store: sab });
  const pp = pingPongOp(() => xa.evtchnNotify(ch.a1));
  const rx = xa.waitForEvents(
    doms.a,
    (p) => {
      if (p === ch.a2) pp.onReply();
    },
    { slowScanMs: 60_000 },
  );
  const w = startWorker({ mode: "evtchn", sab, domid: doms.b, inPort: ch.b1, replyPort: ch.b2 });
  try {
    await w.ready;
    return await measure(durationMs, pp.op);
  } finally {
    const stats = new Promise((r) => w.worker.once("message", r));
    w.worker.postMessage("stop");
    await Promise.race([stats, w.exited]);
    await endWorker(w);
    rx.close();
    xa.close();
  }
}

interface LinkPeer {
  send(q: object): void;
  next(key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** a ÷ b to three significant digits (a small ratio stays above 0: 6 µs ÷ 1.2 ms = 0.005). */
function ratio(a: number, b: number): number {
  return Number((a / b).toPrecision(3));
}

function startLinkPeer(args: { nats: string; hv: string; hostA: string; pageServer: string }): LinkPeer {
  const proc = spawn(
    process.execPath,
    [new URL("./hypervisor-link-peer.js", import.meta.url).pathname, JSON.stringify(args)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  createInterface({ input: proc.stdout! }).on("line", (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
      wake?.();
    } catch {
      // log output
    }
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  let stopped = false;
  return {
    send: (q) => proc.stdin!.write(`${JSON.stringify(q)}\n`),
    async next(key, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const i = lines.findIndex((l) => key in l || "error" in l);
        if (i >= 0) {
          const l = lines.splice(i, 1)[0]!;
          if ("error" in l) throw new Error(`link peer: ${String(l.error)}`);
          return l;
        }
        if (proc.exitCode !== null) throw new Error(`link peer exited before '${key}'`);
        if (Date.now() > until) throw new Error(`link peer: no '${key}' within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      proc.stdin!.write("stop\n");
      const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Event ping-pong between a guest of host A and dom0 in host process B, over the link. */
async function eventsOverLink(
  xa: XenCtrl,
  domA: number,
  peer: LinkPeer,
  durationMs: number,
): Promise<OpFigures> {
  const u = await xa.evtchnAllocUnbound(domA, 0);
  if (u.rc !== 0) throw new Error(`alloc unbound: rc ${u.rc}`);
  peer.send({ bind: { domid: domA, port: u.port, vcpu: 6 } });
  await peer.next("bound");
  const pp = pingPongOp(() => xa.evtchnNotify(u.port));
  const rx = xa.waitForEvents(
    domA,
    (p) => {
      if (p === u.port) pp.onReply();
    },
    { slowScanMs: 60_000 },
  );
  try {
    // The bind's own event (Xen raises one) comes back first.
    await new Promise((r) => setTimeout(r, 200));
    return await measure(durationMs, pp.op);
  } finally {
    rx.close();
  }
}

/** NATS publish → receive between this process and host B's (B echoes), round trips at depth 1. */
async function natsPingPong(natsUrl: string, durationMs: number): Promise<OpFigures> {
  const bus = await connectNatsBus({ servers: natsUrl, name: "bench-hv-nats" });
  try {
    let reply: () => void = () => {};
    bus.subscribe("bench.hv.pong", { callback: () => reply() });
    await bus.flush();
    const payload = new Uint8Array(16);
    return await measure(
      durationMs,
      () =>
        new Promise<void>((r) => {
          reply = r;
          bus.publish("bench.hv.ping", payload);
        }),
    );
  } finally {
    await bus.close();
  }
}

async function startStandaloneHypervisor(entry: string): Promise<{ address: string; stop(): Promise<void> }> {
  const proc: ChildProcess = spawn(
    process.execPath,
    [entry, "--grpc-listen", "127.0.0.1:0", "--log-level", "info"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const t = setTimeout(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }, 5000);
    await exited;
    clearTimeout(t);
  };
  let out = "";
  const keep = (d: Buffer) => {
    if (out.length < 64 * 1024) out += d.toString();
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const end = Date.now() + 20_000;
  for (;;) {
    const m = /"grpc":"(127\.0\.0\.1:\d+)"/.exec(out);
    if (m) return { address: m[1]!, stop };
    if (proc.exitCode !== null || Date.now() > end) {
      await stop();
      throw new Error(`standalone hypervisor did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runHypervisorBench(options: HypervisorBenchOptions): Promise<HypervisorBenchResult> {
  const durationMs = options.durationMs ?? 2000;
  const batch = options.batch ?? 32;
  const log = options.log ?? (() => {});
  const grants: GrantFigures[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    // Floor first, on a quiet machine.
    const wait = pingPong(await atomicsFloor("floor-wait", durationMs));
    log(line("floor atomics.wait ping-pong", wait.round_trip, `  one way p50 ${wait.one_way_p50_us} µs`));
    const wasync = pingPong(await atomicsFloor("floor-waitasync", durationMs));
    log(
      line(
        "floor atomics.waitAsync ping-pong",
        wasync.round_trip,
        `  one way p50 ${wasync.one_way_p50_us} µs`,
      ),
    );

    let natsUrl = options.natsUrl;
    if (!natsUrl) {
      const nats = await startNatsServer();
      cleanups.push(() => nats.stop());
      natsUrl = nats.url;
    }
    // Host A: the hypervisor and a page-server (the link); in-process rows from its main thread.
    const host = await startHost({
      hostId: "benchA",
      nats: natsUrl,
      services: [
        { name: "hypervisor", entry: options.hypervisorEntry, config: {} },
        { name: "page-server", entry: options.pageServerEntry, config: {} },
      ],
      sharedMemoryBytes: 256 << 20,
      logLevel: "warn",
    });
    cleanups.push(() => host.stop());
    await host.ready;
    const calls = createInProcessCallClient(def(), "hypervisor");
    cleanups.push(() => calls.close());
    const dom0 = new XenCtrl({ domid: 0, calls, store: host.sharedMemory });
    const doms = await createDomains(dom0);
    const xa = new XenCtrl({ domid: doms.a, calls, store: host.sharedMemory });
    const xb = new XenCtrl({ domid: doms.b, calls, store: host.sharedMemory });
    grants.push(...(await grantRows("in-process", xa, xb, doms, batch, durationMs, log)));
    const ch = await bindChannels(xa, xb, doms);

    // Host B, a child process: dom0 over the link.
    const peer = startLinkPeer({
      nats: natsUrl,
      hv: host.services.get("hypervisor")!.grpcAddress!,
      hostA: "benchA",
      pageServer: options.pageServerEntry,
    });
    cleanups.push(() => peer.stop());
    await peer.next("ready", 60_000);

    const nats = pingPong(await natsPingPong(natsUrl, durationMs));
    log(line("floor nats publish → receive", nats.round_trip, `  one way p50 ${nats.one_way_p50_us} µs`));

    const events: EventFigures[] = [];
    const ev = (placement: EventFigures["placement"], f: OpFigures) => {
      const p = pingPong(f);
      const row: EventFigures = {
        placement,
        ...p,
        vs_floor_waitasync_p50: ratio(p.one_way_p50_us, wasync.one_way_p50_us),
        vs_floor_wait_p50: ratio(p.one_way_p50_us, wait.one_way_p50_us),
        vs_nats_p50: ratio(p.one_way_p50_us, nats.one_way_p50_us),
      };
      log(
        line(
          `event ping-pong ${placement}`,
          f,
          `  one way p50 ${p.one_way_p50_us} µs p99 ${p.one_way_p99_us} µs, ${p.events_per_s} events/s, ${row.vs_nats_p50} × NATS`,
        ),
      );
      events.push(row);
    };
    ev("in-process-atomics", await eventsInProcess(host.sharedMemory, calls, doms, ch, durationMs));
    ev("link", await eventsOverLink(xa, doms.a, peer, durationMs));

    // Grants of guest A mapped by dom0 in host B, over the link.
    const refs = Array.from({ length: batch }, (_, i) => GRANT_REF0 + 64 + i);
    for (const [i, ref] of refs.entries()) {
      const rc = await xa.gnttabGrantAccess(ref, 0, GRANT_GFN0 + 64 + i, false);
      if (rc !== 0) throw new Error(`gnttabGrantAccess(${ref}) = ${rc}`);
    }
    peer.send({ grants: { domid: doms.a, refs, durationMs } });
    const linkRows = (await peer.next("grants", durationMs * 4 + 30_000)).grants as GrantFigures[];
    for (const r of linkRows) {
      log(line(`grant map+unmap link ×${r.batch}`, r.figures, `  → ${r.grants_per_s} grants/s`));
      grants.push(r);
    }
    await peer.stop();
    for (const d of [doms.a, doms.b]) await dom0.domainDestroy(d);

    // Standalone hypervisor process: grants over gRPC.
    const hv = await startStandaloneHypervisor(options.hypervisorEntry);
    cleanups.push(() => hv.stop());
    const grpc = createGrpcCallClient(def(), hv.address);
    cleanups.push(() => grpc.close());
    const rdom0 = new XenCtrl({ domid: 0, calls: grpc });
    const rdoms = await createDomains(rdom0);
    const rxa = new XenCtrl({ domid: rdoms.a, calls: grpc });
    const rxb = new XenCtrl({ domid: rdoms.b, calls: grpc });
    if (rxb.inProcess) throw new Error("the gRPC XenCtrl must not be in-process");
    // The per-call floor of this path (and the gRPC warm-up of the grant rows after it).
    const grpcUnary = await measure(durationMs, async () => {
      const r = await rdom0.domainInfo(0);
      if (r.rc !== 0) throw new Error(`domainInfo(0) = ${r.rc}`);
    });
    log(line("floor grpc unary DomainInfo", grpcUnary));
    grants.push(...(await grantRows("grpc", rxa, rxb, rdoms, batch, durationMs, log)));

    return {
      benchmark: "hypervisor",
      machine: { ...machineInfo(), cpus: cpus().length },
      duration_ms: durationMs,
      floor: { atomics_wait: wait, atomics_waitasync: wasync, grpc_unary: grpcUnary, nats_pub_recv: nats },
      grants,
      events,
    };
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        log(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
