// The trap path across threads: this thread is the guest's vCPU (it blocks in Atomics.wait as a vCPU
// does), a worker thread is the emulator. Round trips, PCI config through CF8/CFC, buffered VGA
// writes drained before the next synchronous request, broadcasts, and each misbehaving emulator →
// Xen's reaction (crash the domain, all-ones), with the servers' resources released afterwards.

import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { Worker } from "node:worker_threads";
import {
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  HVM_IOREQSRV_BUFIOREQ_OFF,
  IOREQ_READ,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_INVALIDATE,
  IOREQ_TYPE_PCI_CONFIG,
  IOREQ_TYPE_PIO,
  IOREQ_TYPE_TIMEOFFSET,
  IOREQ_WRITE,
  XEN_DMOP_IO_RANGE_MEMORY,
  XEN_DMOP_IO_RANGE_PCI,
  XEN_DMOP_IO_RANGE_PORT,
  xenDmopPciSbdf,
} from "@xensim/abi";
import { BUF_READ_POINTER_WORD, BUF_WRITE_POINTER_WORD, newIoreq } from "./codec.js";
import {
  decodeCreateIoreqServerId,
  encodeCreateIoreqServer,
  encodeDestroyIoreqServer,
  encodeIoRange,
  encodeSetIoreqServerState,
} from "./dmop.js";
import { pauseWord } from "./layout.js";
import { ALL_ONES } from "./sync.js";
import type { EmulatorMode } from "./testing/emulator-worker.js";
import { WORLD_DOMAINS, world } from "./testing/world.js";
import { DomainCrashed, IoreqVcpu, VcpuStopped } from "./vcpu.js";
import { setTracer, TRACE_IOREQ, TRACE_RING, type TraceRecord } from "@xensim/trace";

const { GUEST } = WORLD_DOMAINS;
type Msg = { t: string; [k: string]: unknown };

async function setup(t: TestContext, mode: EmulatorMode, handling = HVM_IOREQSRV_BUFIOREQ_ATOMIC) {
  const w = world();
  const xen0 = w.xenFrames();
  const ports0 = w.ev.portCount(GUEST);
  const id = decodeCreateIoreqServerId(w.dm(0, GUEST, encodeCreateIoreqServer(handling)).buf);
  const map = (t: number, s: bigint, e = s) =>
    assert.equal(w.dm(0, GUEST, encodeIoRange(true, id, t, s, e)).rc, 0);
  map(XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn);
  map(XEN_DMOP_IO_RANGE_MEMORY, 0xa0000n, 0xbffffn);
  map(XEN_DMOP_IO_RANGE_MEMORY, 0xe000_0000n, 0xe0ff_ffffn);
  map(XEN_DMOP_IO_RANGE_PCI, BigInt(xenDmopPciSbdf(0, 0, 3, 0)));
  assert.equal(
    w.servers.acquireResource(0, GUEST, id, 0, handling === HVM_IOREQSRV_BUFIOREQ_OFF ? 1 : 2).rc === 0 ||
      handling === HVM_IOREQSRV_BUFIOREQ_OFF,
    true,
  );
  if (handling === HVM_IOREQSRV_BUFIOREQ_OFF)
    assert.equal(w.servers.acquireResource(0, GUEST, id, 1, 1).rc, 0);
  assert.equal(w.dm(0, GUEST, encodeSetIoreqServerState(id, true)).rc, 0);
  const msgs: Msg[] = [];
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./testing/emulator-worker.js", import.meta.url), {
    workerData: { sab: w.store.buffer, domid: GUEST, serverId: id, mode, stop: stopFlag },
  });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  worker.on("message", (m: Msg) => {
    msgs.push(m);
    if (m.t === "ready") ready();
  });
  t.after(async () => {
    Atomics.store(stopFlag, 0, 1);
    await worker.terminate();
  });
  await isReady;
  const crashes: string[] = [];
  let deadline = Number.POSITIVE_INFINITY;
  const vcpu = (v: number) =>
    new IoreqVcpu({
      store: w.store,
      ev: w.ev,
      domid: GUEST,
      vcpu: v,
      alive: () => Date.now() < deadline,
      onCrash: (r) => crashes.push(r),
    });
  const settle = () => new Promise((r) => setTimeout(r, 30));
  const stop = async () => {
    const gone = new Promise((r) => worker.once("exit", r));
    Atomics.store(stopFlag, 0, 1);
    await gone;
    w.dm(0, GUEST, encodeDestroyIoreqServer(id));
    w.servers.releaseResource(0, GUEST, id);
    w.servers.destroyAll(GUEST);
    assert.equal(w.ev.portCount(GUEST), ports0, "no port left behind");
    assert.equal(w.xenFrames(), xen0, "no DOMID_XEN frame left behind");
  };
  return {
    ...w,
    id,
    msgs,
    vcpu,
    crashes,
    settle,
    stop,
    setDeadline: (ms: number) => (deadline = Date.now() + ms),
  };
}

const pio = (port: number, size: number, dir: number, data = 0n) =>
  newIoreq({ type: IOREQ_TYPE_PIO, addr: BigInt(port), size, dir, data });
const mmio = (addr: bigint, size: number, dir: number, data = 0n) =>
  newIoreq({ type: IOREQ_TYPE_COPY, addr, size, dir, data });

test("round trips: port read and write, PCI config via CF8/CFC, MMIO; unclaimed accesses read all-ones", async (t) => {
  const s = await setup(t, "echo");
  const cpu = s.vcpu(0);
  assert.deepEqual(cpu.emulate(pio(0x3fd, 1, IOREQ_READ)), {
    data: 0x3fdn + 0x100n,
    route: "server",
    serverId: s.id,
  });
  assert.equal(cpu.emulate(pio(0x3f8, 1, IOREQ_WRITE, 0x41n)).route, "server");
  assert.equal(
    cpu.emulate(pio(0xcf8, 4, IOREQ_WRITE, 0x8000_1810n)).route,
    "null",
    "0xcf8 is not claimed: latched by Xen, dropped",
  );
  const cfg = cpu.emulate(pio(0xcfc, 4, IOREQ_READ));
  assert.equal(cfg.route, "server");
  assert.equal(cfg.data, ((0x18n << 32n) | 0x10n) + 0x100n, "the emulator saw SBDF << 32 | register");
  assert.equal(cpu.emulate(mmio(0xe000_0010n, 4, IOREQ_READ)).data, 0xe000_0110n);
  assert.deepEqual(cpu.emulate(pio(0x2f8, 1, IOREQ_READ)), { data: ALL_ONES, route: "null" });
  assert.equal(cpu.emulate(pio(0xcf8, 4, IOREQ_WRITE, 0x8000_2000n)).route, "null");
  assert.equal(cpu.emulate(pio(0xcfc, 2, IOREQ_READ)).data, ALL_ONES, "no device 00:04.0: vendor 0xffff");
  assert.equal(s.vcpu(1).emulate(pio(0x3f9, 1, IOREQ_READ)).data, 0x4f9n, "vCPU 1 has its own slot and port");
  await s.settle();
  const seen = s.msgs.filter((m) => m.t === "ioreq");
  assert.deepEqual(
    seen.map((m) => [m.type, m.addr, m.dir, m.vcpu]),
    [
      [IOREQ_TYPE_PIO, "1021", IOREQ_READ, 0],
      [IOREQ_TYPE_PIO, "1016", IOREQ_WRITE, 0],
      [IOREQ_TYPE_PCI_CONFIG, String((0x18n << 32n) | 0x10n), IOREQ_READ, 0],
      [IOREQ_TYPE_COPY, String(0xe000_0010n), IOREQ_READ, 0],
      [IOREQ_TYPE_PIO, "1017", IOREQ_READ, 1],
    ],
  );
  assert.equal(seen[1]!.data, "65");
  await s.stop();
});

test("buffered VGA writes: queued without waiting, drained in order before the next synchronous request", async (t) => {
  const s = await setup(t, "echo");
  const cpu = s.vcpu(0);
  for (let i = 0; i < 100; i++)
    assert.equal(cpu.emulate(mmio(0xa0000n + BigInt(i * 4), 4, IOREQ_WRITE, BigInt(i))).route, "buffered");
  assert.equal(cpu.emulate(mmio(0xa0000n, 4, IOREQ_READ)).route, "server", "reads are synchronous");
  assert.equal(
    cpu.emulate(mmio(0xe000_0000n, 4, IOREQ_WRITE, 1n)).route,
    "server",
    "outside the VGA window: synchronous",
  );
  await s.settle();
  const order = s.msgs.filter((m) => m.t === "buffered" || m.t === "ioreq");
  const buffered = order.filter((m) => m.t === "buffered");
  assert.deepEqual(
    buffered.map((m) => Number(m.data)),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.ok(
    order.findIndex((m) => m.t === "ioreq") > order.findLastIndex((m) => m.t === "buffered"),
    "all 100 before the read",
  );
  await s.stop();
});

test("a full or corrupted buffered ring falls back to the synchronous path; the emulator reports the bad pointers", async (t) => {
  const s = await setup(t, "echo");
  const frame = s.servers.servers(GUEST)[0]!.bufFrame;
  Atomics.store(
    s.store.i32,
    frame * 1024 + BUF_READ_POINTER_WORD,
    Atomics.load(s.store.i32, frame * 1024 + BUF_WRITE_POINTER_WORD) + 5,
  );
  const r = s.vcpu(0).emulate(mmio(0xa0000n, 1, IOREQ_WRITE, 0x7n));
  assert.equal(r.route, "server", "write − read wrapped: full, so synchronous");
  await s.settle();
  assert.ok(s.msgs.some((m) => m.t === "ioreq" && m.addr === String(0xa0000n)));
  await s.stop();
});

test("broadcasts: INVALIDATE synchronously to every enabled server; TIMEOFFSET buffered (fails where buffering is off)", async (t) => {
  const s = await setup(t, "echo");
  const off = decodeCreateIoreqServerId(
    s.dm(0, GUEST, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_OFF)).buf,
  );
  assert.equal(s.dm(0, GUEST, encodeSetIoreqServerState(off, true)).rc, 0); // enabled, no pages, nobody home
  const cpu = s.vcpu(0);
  assert.equal(
    cpu.broadcast(newIoreq({ type: IOREQ_TYPE_TIMEOFFSET, size: 8, data: 0x1_0000_0020n }), true),
    1,
    "the OFF server failed",
  );
  s.dm(0, GUEST, encodeSetIoreqServerState(off, false));
  assert.equal(
    cpu.broadcast(newIoreq({ type: IOREQ_TYPE_INVALIDATE, size: 4, data: 0xffff_ffffn }), false),
    0,
  );
  await s.settle();
  assert.ok(
    s.msgs.some(
      (m) => m.t === "buffered" && m.type === IOREQ_TYPE_TIMEOFFSET && m.data === String(0x1_0000_0020n),
    ),
  );
  assert.ok(s.msgs.some((m) => m.t === "ioreq" && m.type === IOREQ_TYPE_INVALIDATE));
  s.dm(0, GUEST, encodeDestroyIoreqServer(off));
  await s.stop();
});

for (const [mode, reason] of [
  ["wrong-state", /Weird HVM iorequest state 9/],
  ["backwards", /Weird HVM ioreq state transition 2 -> 1/],
] as const) {
  test(`an emulator that ${mode === "wrong-state" ? "writes a state that is not a state" : "moves the state backwards"} → the domain is crashed`, async (t) => {
    const s = await setup(t, mode);
    const cpu = s.vcpu(0);
    assert.throws(
      () => cpu.emulate(pio(0x3f8, 1, IOREQ_READ)),
      (e: unknown) => e instanceof DomainCrashed && reason.test(e.reason),
    );
    assert.equal(s.crashes.length, 1);
    assert.ok(s.servers.crashReason(GUEST));
    assert.throws(
      () => s.vcpu(1).emulate(pio(0x3f8, 1, IOREQ_READ)),
      DomainCrashed,
      "every vCPU stops emulating",
    );
    await s.stop();
  });
}

test("an emulator that answers a slot that was not READY → the next request on it finds the slot busy: crash", async (t) => {
  const s = await setup(t, "answer-idle");
  assert.equal(s.vcpu(0).emulate(pio(0x3f8, 1, IOREQ_READ)).route, "server");
  assert.throws(
    () => s.vcpu(1).emulate(pio(0x3f8, 1, IOREQ_READ)),
    (e: unknown) => e instanceof DomainCrashed && /device model set bad IO state 3/.test(e.reason),
  );
  await s.stop();
});

test("an emulator that resets the slot to NONE (dying) → the read completes with all-ones", async (t) => {
  const s = await setup(t, "reset-none");
  assert.deepEqual(s.vcpu(0).emulate(pio(0x3f8, 1, IOREQ_READ)), {
    data: ALL_ONES,
    emulatorGone: true,
    route: "server",
    serverId: s.id,
  });
  await s.stop();
});

test("a server destroyed while a vCPU waits on it → the access completes (all-ones), nothing leaks", async (t) => {
  const s = await setup(t, "destroy");
  const r = s.vcpu(0).emulate(pio(0x3f8, 1, IOREQ_READ));
  assert.deepEqual(r, { data: ALL_ONES, emulatorGone: true, route: "server", serverId: s.id });
  await s.settle();
  assert.deepEqual(
    s.msgs.find((m) => m.t === "destroy"),
    { t: "destroy", rc: 0 },
  );
  assert.deepEqual(s.servers.servers(GUEST), []);
  await s.stop();
});

test("an emulator that never answers → the vCPU stays blocked (Xen has no timeout) until the domain goes; then nothing leaks", async (t) => {
  const s = await setup(t, "never");
  s.setDeadline(300);
  const t0 = Date.now();
  assert.throws(() => s.vcpu(0).emulate(pio(0x3f8, 1, IOREQ_READ)), VcpuStopped);
  assert.ok(Date.now() - t0 >= 250, "it waited");
  await s.settle();
  assert.ok(s.msgs.some((m) => m.t === "taken"));
  await s.stop();
});

test("the ioreq trace kind: Xen's side of each access decoded, nothing while nobody listens", async (t) => {
  const s = await setup(t, "echo");
  const cpu = s.vcpu(0);
  const got: TraceRecord[] = [];
  t.after(() => setTracer(0));
  setTracer(TRACE_RING, (r) => got.push(r));
  cpu.emulate(pio(0x3fd, 1, IOREQ_READ));
  assert.equal(got.length, 0, "another kind listened to: no ioreq records");
  setTracer(TRACE_IOREQ, (r) => got.push(r));
  cpu.emulate(pio(0x3fd, 1, IOREQ_READ));
  cpu.emulate(pio(0xcf8, 4, IOREQ_WRITE, 0x8000_1810n));
  cpu.emulate(pio(0xcfc, 4, IOREQ_READ));
  setTracer(0);
  cpu.emulate(pio(0x3fd, 1, IOREQ_READ));
  const strip = ({
    kind,
    op,
    domid,
    vcpu,
    type,
    addr,
    size,
    dir,
    state,
    data,
    server,
    sbdf,
    reg,
  }: TraceRecord) => ({ kind, op, domid, vcpu, type, addr, size, dir, state, data, server, sbdf, reg });
  assert.deepEqual(got.map(strip), [
    {
      ...strip({ kind: "ioreq", op: "send", domid: GUEST }),
      vcpu: 0,
      type: "pio",
      addr: "0x3fd",
      size: 1,
      dir: "read",
      state: "NONE->READY",
      server: s.id,
    },
    {
      ...strip({ kind: "ioreq", op: "complete", domid: GUEST }),
      vcpu: 0,
      type: "pio",
      addr: "0x3fd",
      size: 1,
      dir: "read",
      state: "IORESP_READY->NONE",
      data: "0x4fd",
      server: s.id,
    },
    {
      ...strip({ kind: "ioreq", op: "unhandled", domid: GUEST }),
      vcpu: 0,
      type: "pio",
      addr: "0xcf8",
      size: 4,
      dir: "write",
      data: "0x80001810",
    },
    {
      ...strip({ kind: "ioreq", op: "send", domid: GUEST }),
      vcpu: 0,
      type: "pci_config",
      addr: "0x1800000010",
      size: 4,
      dir: "read",
      state: "NONE->READY",
      server: s.id,
      sbdf: "00:03.0",
      reg: "0x10",
    },
    {
      ...strip({ kind: "ioreq", op: "complete", domid: GUEST }),
      vcpu: 0,
      type: "pci_config",
      addr: "0x1800000010",
      size: 4,
      dir: "read",
      state: "IORESP_READY->NONE",
      server: s.id,
      sbdf: "00:03.0",
      reg: "0x10",
      data: "0x1800000110",
    },
  ]);
  assert.equal(got[0]!.count, 1);
  assert.equal(got[0]!.data_is_ptr, false);
  assert.equal(got[0]!.df, false);
  await s.stop();
});

test("Xen's vpic on the trap path: its ports never reach a server, a dm_op IRQ wakes HLT and is taken by vCPU 0 only, a paused domain's vCPU waits", async (t) => {
  const s = await setup(t, "echo");
  const v0 = s.vcpu(0);
  const v1 = s.vcpu(1);
  const out = (port: number, v: number) => v0.emulate(pio(port, 1, IOREQ_WRITE, BigInt(v)));
  for (const [p, v] of [
    [0x20, 0x11],
    [0x21, 0x20],
    [0x21, 0x04],
    [0x21, 0x01],
    [0xa0, 0x11],
    [0xa1, 0x28],
    [0xa1, 0x02],
    [0xa1, 0x01],
    [0x21, 0xeb],
  ] as const)
    assert.equal(out(p, v).route, "xen");
  assert.equal(Number(v0.emulate(pio(0x21, 1, IOREQ_READ)).data), 0xeb);
  assert.equal(v0.emulate(pio(0x21, 2, IOREQ_READ)).data, ALL_ONES, "2-byte vPIC access: all-ones");
  assert.equal(v0.counts.server, 0, "nothing reached the emulator");
  assert.equal(v0.halt(20), false, "nothing pending: HLT times out");
  const irq = s.servers.irq(GUEST, 2)!;
  const kick = Atomics.load(s.store.i32, irq.kickWord);
  assert.equal(irq.setIsaIrqLevel(4, 1), 0);
  assert.equal(Atomics.load(s.store.i32, irq.kickWord), kick + 1, "INT rose: the kick word moved");
  assert.equal(v0.halt(5000), true, "HLT returns at once with INT asserted");
  assert.equal(v1.takeInterrupt(), undefined, "the PIC's INT goes to vCPU 0 only");
  assert.deepEqual(v0.takeInterrupt(), { vector: 0x24, irq: 4, spurious: false });
  out(0x20, 0x20);
  assert.equal(v0.interruptView()!.delivered, 1);
  // XEN_DOMCTL_pausedomain's count, as the hypervisor publishes it: the vCPU waits at its next exit.
  const w = pauseWord(s.store, GUEST);
  Atomics.store(s.store.i32, w, 1);
  assert.equal(irq.setIsaIrqLevel(4, 0), 0);
  assert.equal(irq.setIsaIrqLevel(4, 1), 0);
  assert.equal(v0.takeInterrupt(), undefined, "no interrupt while paused");
  // Another thread unpauses (this one blocks in the access meanwhile).
  const unpauser = new Worker(
    "const { workerData: d } = require('node:worker_threads'); const i = new Int32Array(d.sab);" +
      "setTimeout(() => { Atomics.store(i, d.w, 0); Atomics.notify(i, d.w); }, 50);",
    { eval: true, workerData: { sab: s.store.buffer, w } },
  );
  t.after(() => unpauser.terminate());
  const t1 = Date.now();
  v0.emulate(pio(0x21, 1, IOREQ_READ));
  assert.ok(Date.now() - t1 >= 40, "the access waited for the unpause");
  assert.equal(v0.takeInterrupt()?.irq, 4);
  await s.stop();
});
