import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import {
  DOMID_SELF,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_ipi,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_virq,
  VIRQ_CONSOLE,
  VIRQ_DEBUG,
  VIRQ_TIMER,
  XenErrno,
} from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import fc from "fast-check";
import { EventChannelError, EventChannels } from "./event-channels.js";
import { isMasked, isPending, maskPort, scanPending, upcallPending } from "./two-level.js";

const EINVAL = -XenErrno.EINVAL;
const ENOSPC = -XenErrno.ENOSPC;
const ESRCH = -XenErrno.ESRCH;
const ENOENT = -XenErrno.ENOENT;
const EEXIST = -XenErrno.EEXIST;
const EPERM = -XenErrno.EPERM;
const A = 1;
const B = 2;

function world(opts: { maxPorts?: number } = {}) {
  const store = PageStore.create({ frames: 1024 });
  const free0 = store.freeFrameCount();
  const kicks: [number, number, number][] = [];
  const ev = new EventChannels(store, { notify: (d, v, p) => kicks.push([d, v, p]) });
  for (const d of [0, A, B]) {
    store.createDomain(d, { privileged: d === 0 });
    const si = store.allocFrame(d);
    ev.initDomain(d, {
      sharedInfoFrame: si,
      maxVcpus: 2,
      ...(opts.maxPorts ? { maxPorts: opts.maxPorts } : {}),
    });
  }
  const teardown = () => {
    for (const d of [A, B, 0]) {
      ev.destroyDomain(d);
      store.destroyDomain(d);
    }
    assert.equal(store.freeFrameCount(), free0, "no frame left behind");
  };
  return { store, ev, kicks, teardown };
}

test("alloc_unbound + bind_interdomain: lowest free port, new local port starts pending", () => {
  const { ev, kicks, teardown } = world();
  const u = ev.allocUnbound(A, { dom: DOMID_SELF, remoteDom: B });
  assert.deepEqual(u, { rc: 0, port: 1 });
  assert.deepEqual(ev.evtchnStatus(A, { dom: A, port: 1 }), {
    rc: 0,
    status: EVTCHNSTAT_unbound,
    vcpu: 0,
    dom: B,
  });
  assert.equal(ev.evtchnSend(A, 1), 0, "send on unbound is dropped");
  const b = ev.bindInterdomain(B, { remoteDom: A, remotePort: 1 });
  assert.deepEqual(b, { rc: 0, port: 1 });
  assert.ok(isPending(ev.sharedInfo(B), 1), "new local port starts pending");
  assert.deepEqual(kicks, [[B, 0, 1]]);
  assert.deepEqual(ev.evtchnStatus(B, { dom: DOMID_SELF, port: 1 }), {
    rc: 0,
    status: EVTCHNSTAT_interdomain,
    vcpu: 0,
    dom: A,
    port: 1,
  });
  assert.equal(ev.evtchnSend(B, 1), 0);
  assert.ok(isPending(ev.sharedInfo(A), 1));
  const got: number[] = [];
  assert.equal(
    scanPending(ev.sharedInfo(A), 0, (p) => got.push(p)),
    1,
  );
  assert.deepEqual(got, [1]);
  assert.equal(
    scanPending(ev.sharedInfo(A), 0, (p) => got.push(p)),
    0,
    "a duplicate wake-up finds nothing",
  );
  teardown();
});

test("errors: ESRCH, EINVAL, ENOSPC, ENOENT, EEXIST, EPERM", () => {
  const { ev, teardown } = world({ maxPorts: 4 });
  assert.equal(ev.allocUnbound(A, { dom: 77, remoteDom: B }).rc, ESRCH);
  assert.equal(ev.allocUnbound(A, { dom: B, remoteDom: A }).rc, EPERM, "unprivileged: only DOMID_SELF");
  assert.equal(ev.allocUnbound(0, { dom: B, remoteDom: A }).rc, 0, "privileged may");
  assert.equal(ev.bindInterdomain(A, { remoteDom: 77, remotePort: 1 }).rc, ESRCH);
  assert.equal(ev.bindInterdomain(A, { remoteDom: B, remotePort: 4000 }).rc, EINVAL, "bad remote port");
  assert.equal(ev.bindInterdomain(A, { remoteDom: B, remotePort: 3 }).rc, EINVAL, "remote port free");
  assert.equal(ev.bindInterdomain(0, { remoteDom: B, remotePort: 1 }).rc, EINVAL, "not accepting dom0");
  assert.equal(ev.bindInterdomain(A, { remoteDom: B, remotePort: 0 }).rc, EINVAL, "reserved port 0");
  assert.equal(ev.bindVirq(A, { virq: 24, vcpu: 0 }).rc, EINVAL);
  assert.equal(ev.bindVirq(A, { virq: VIRQ_CONSOLE, vcpu: 1 }).rc, EINVAL, "global VIRQ only on vCPU 0");
  assert.equal(ev.bindVirq(A, { virq: VIRQ_TIMER, vcpu: 2 }).rc, ENOENT);
  assert.equal(ev.bindVirq(A, { virq: VIRQ_TIMER, vcpu: 1 }).rc, 0);
  assert.equal(ev.bindVirq(A, { virq: VIRQ_TIMER, vcpu: 1 }).rc, EEXIST);
  assert.equal(ev.bindIpi(A, { vcpu: 5 }).rc, ENOENT);
  assert.equal(ev.bindIpi(A, { vcpu: 1 }).rc, 0);
  assert.equal(ev.bindIpi(A, { vcpu: 0 }).rc, 0);
  assert.equal(ev.bindIpi(A, { vcpu: 0 }).rc, ENOSPC, "ports 1..3 used, max 4");
  assert.equal(ev.evtchnSend(A, 0), EINVAL, "reserved");
  assert.equal(ev.evtchnSend(A, 4), EINVAL, "out of range");
  assert.equal(ev.evtchnSend(A, 1), EINVAL, "VIRQ ports cannot be sent on");
  assert.equal(ev.evtchnSend(B, 2), EINVAL, "free port");
  assert.equal(ev.evtchnClose(A, 0), EINVAL);
  assert.equal(ev.evtchnClose(A, 9999), EINVAL);
  assert.equal(ev.evtchnClose(B, 3), EINVAL, "free");
  assert.equal(ev.evtchnUnmask(A, 4096), EINVAL);
  assert.equal(ev.evtchnStatus(A, { dom: 77, port: 1 }).rc, ESRCH);
  assert.equal(ev.evtchnStatus(A, { dom: A, port: 4 }).rc, EINVAL);
  assert.equal(ev.evtchnStatus(A, { dom: B, port: 1 }).rc, EPERM);
  assert.deepEqual(ev.evtchnStatus(A, { dom: A, port: 0 }), { rc: 0, status: EVTCHNSTAT_closed, vcpu: 0 });
  assert.equal(ev.evtchnSend(77, 1), ESRCH);
  assert.equal(ev.evtchnReset(A, 77), ESRCH);
  assert.equal(ev.evtchnReset(A, B), EPERM);
  assert.equal(ev.bindVcpu(A, { port: 1, vcpu: 0 }), EINVAL, "per-vCPU VIRQ cannot move");
  assert.equal(ev.bindVcpu(A, { port: 1, vcpu: 9 }), ENOENT);
  assert.equal(ev.bindVcpu(A, { port: 2, vcpu: 0 }), EINVAL, "IPI cannot move");
  assert.throws(() => ev.initDomain(A, { sharedInfoFrame: 1 }), EventChannelError);
  assert.throws(() => ev.initDomain(77, { sharedInfoFrame: 1 }), EventChannelError);
  teardown();
});

test("close: the interdomain peer goes back to unbound accepting the closer, and can be re-bound", () => {
  const { ev, teardown } = world();
  ev.allocUnbound(A, { dom: A, remoteDom: B });
  ev.bindInterdomain(B, { remoteDom: A, remotePort: 1 });
  assert.equal(ev.evtchnClose(B, 1), 0);
  assert.equal(isPending(ev.sharedInfo(B), 1), false, "pending cleared on close");
  assert.deepEqual(ev.evtchnStatus(A, { dom: A, port: 1 }), {
    rc: 0,
    status: EVTCHNSTAT_unbound,
    vcpu: 0,
    dom: B,
  });
  assert.equal(ev.evtchnSend(A, 1), 0, "now unbound: dropped");
  assert.equal(ev.bindInterdomain(B, { remoteDom: A, remotePort: 1 }).port, 1, "lowest free port again");
  assert.equal(ev.evtchnClose(A, 1), 0, "close from the other side");
  assert.deepEqual(ev.evtchnStatus(B, { dom: B, port: 1 }), {
    rc: 0,
    status: EVTCHNSTAT_unbound,
    vcpu: 0,
    dom: A,
  });
  assert.equal(ev.evtchnClose(B, 1), 0);
  assert.equal(ev.portCount(A) + ev.portCount(B), 0);
  // Loopback: a domain binds to its own unbound port.
  ev.allocUnbound(A, { dom: A, remoteDom: DOMID_SELF });
  assert.equal(ev.bindInterdomain(A, { remoteDom: DOMID_SELF, remotePort: 1 }).port, 2);
  assert.equal(ev.evtchnClose(A, 2), 0);
  assert.equal(ev.evtchnStatus(A, { dom: A, port: 1 }).status, EVTCHNSTAT_unbound);
  teardown();
});

test("virq, ipi, mask/unmask, bind_vcpu, reset", () => {
  const { ev, kicks, teardown } = world();
  const t = ev.bindVirq(A, { virq: VIRQ_TIMER, vcpu: 1 }).port;
  const c = ev.bindVirq(A, { virq: VIRQ_CONSOLE, vcpu: 0 }).port;
  assert.equal(ev.bindVirq(A, { virq: VIRQ_TIMER, vcpu: 0 }).rc, 0, "per-vCPU: once per vCPU");
  assert.deepEqual(ev.evtchnStatus(A, { dom: A, port: t }), {
    rc: 0,
    status: EVTCHNSTAT_virq,
    vcpu: 1,
    virq: 0,
  });
  assert.equal(ev.sendVirq(A, VIRQ_TIMER, 1), true);
  assert.deepEqual(kicks.at(-1), [A, 1, t]);
  assert.equal(ev.sendVirq(A, VIRQ_DEBUG, 0), false, "not bound");
  assert.equal(ev.bindVcpu(A, { port: c, vcpu: 1 }), 0, "global VIRQ may move");
  assert.equal(
    scanPending(ev.sharedInfo(A), 1, () => {}),
    1,
    "the timer event",
  );
  assert.equal(ev.sendVirq(A, VIRQ_CONSOLE), true);
  assert.deepEqual(kicks.at(-1), [A, 1, c]);
  const ipi = ev.bindIpi(A, { vcpu: 1 }).port;
  assert.deepEqual(ev.evtchnStatus(A, { dom: A, port: ipi }), { rc: 0, status: EVTCHNSTAT_ipi, vcpu: 1 });
  const si = ev.sharedInfo(A);
  scanPending(si, 1, () => {});
  maskPort(si, ipi);
  const before = kicks.length;
  assert.equal(ev.evtchnSend(A, ipi), 0);
  assert.equal(kicks.length, before, "masked: pending but no upcall");
  assert.ok(isPending(si, ipi));
  assert.equal(upcallPending(si, 1), false);
  assert.equal(
    scanPending(si, 1, () => assert.fail("masked port dispatched")),
    0,
  );
  assert.equal(ev.evtchnUnmask(A, ipi), 0);
  assert.equal(isMasked(si, ipi), false);
  assert.deepEqual(kicks.at(-1), [A, 1, ipi], "unmask raises the event that arrived while masked");
  assert.equal(
    scanPending(si, 1, () => {}),
    1,
  );
  assert.equal(ev.evtchnUnmask(A, ipi), 0, "unmask of an unmasked port is harmless");
  assert.equal(ev.evtchnClose(A, c), 0);
  assert.equal(ev.bindVirq(A, { virq: VIRQ_CONSOLE, vcpu: 0 }).rc, 0, "closed VIRQ can be bound again");
  ev.allocUnbound(A, { dom: A, remoteDom: B });
  assert.equal(ev.evtchnReset(A, DOMID_SELF), 0);
  assert.equal(ev.portCount(A), 0);
  assert.equal(ev.bindVirq(A, { virq: VIRQ_TIMER, vcpu: 1 }).port, 1, "reset frees everything");
  teardown();
});

test("teardown with live interdomain channels: peers go unbound, nothing leaks", () => {
  const { store, ev, teardown } = world();
  for (let i = 0; i < 300; i++) {
    const u = ev.allocUnbound(A, { dom: A, remoteDom: B });
    assert.equal(ev.bindInterdomain(B, { remoteDom: A, remotePort: u.port }).rc, 0);
  }
  assert.equal(ev.portCount(A), 300, "grew past one bucket");
  ev.destroyDomain(A);
  store.destroyDomain(A);
  assert.equal(ev.evtchnStatus(B, { dom: B, port: 1 }).status, EVTCHNSTAT_unbound);
  assert.equal(ev.evtchnSend(B, 1), 0);
  teardown();
});

type EvOp =
  | { k: "alloc"; who: number }
  | { k: "bind"; who: number; pick: number }
  | { k: "send"; who: number; port: number }
  | { k: "close"; who: number; port: number }
  | { k: "scan"; who: number };

test("property: alloc/bind/send/close/scan interleavings match a reference model", () => {
  const who = fc.constantFrom(A, B);
  const port = fc.integer({ min: 0, max: 9 });
  const opArb: fc.Arbitrary<EvOp> = fc.oneof(
    fc.record({ k: fc.constant("alloc" as const), who }),
    fc.record({ k: fc.constant("bind" as const), who, pick: fc.nat() }),
    fc.record({ k: fc.constant("send" as const), who, port }),
    fc.record({ k: fc.constant("close" as const), who, port }),
    fc.record({ k: fc.constant("scan" as const), who }),
  );
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
      const { ev, teardown } = world({ maxPorts: 8 });
      type Ch = { s: "unbound"; accept: number } | { s: "inter"; rd: number; rp: number };
      const model = new Map<number, Map<number, Ch>>([
        [A, new Map()],
        [B, new Map()],
      ]);
      const pending = new Map<number, Set<number>>([
        [A, new Set()],
        [B, new Set()],
      ]);
      const lowest = (d: number) => {
        for (let p = 1; p < 8; p++) if (!model.get(d)!.has(p)) return p;
        return -1;
      };
      for (const op of ops) {
        const other = op.who === A ? B : A;
        const mine = model.get(op.who)!;
        switch (op.k) {
          case "alloc": {
            const want = lowest(op.who);
            const r = ev.allocUnbound(op.who, { dom: DOMID_SELF, remoteDom: other });
            assert.deepEqual(r, want < 0 ? { rc: ENOSPC, port: 0 } : { rc: 0, port: want });
            if (want > 0) mine.set(want, { s: "unbound", accept: other });
            break;
          }
          case "bind": {
            const cands = [...model.get(other)!].filter(([, c]) => c.s === "unbound" && c.accept === op.who);
            const rp = cands.length ? cands[op.pick % cands.length]![0] : 0;
            const want = lowest(op.who);
            const r = ev.bindInterdomain(op.who, { remoteDom: other, remotePort: rp });
            if (want < 0) assert.equal(r.rc, ENOSPC);
            else if (!cands.length) assert.equal(r.rc, EINVAL);
            else {
              assert.deepEqual(r, { rc: 0, port: want });
              mine.set(want, { s: "inter", rd: other, rp });
              model.get(other)!.set(rp, { s: "inter", rd: op.who, rp: want });
              pending.get(op.who)!.add(want);
            }
            break;
          }
          case "send": {
            const c = mine.get(op.port);
            const rc = ev.evtchnSend(op.who, op.port);
            assert.equal(rc, c ? 0 : EINVAL);
            if (c?.s === "inter") pending.get(c.rd)!.add(c.rp);
            break;
          }
          case "close": {
            const c = mine.get(op.port);
            assert.equal(ev.evtchnClose(op.who, op.port), c ? 0 : EINVAL);
            if (c) {
              mine.delete(op.port);
              pending.get(op.who)!.delete(op.port);
              if (c.s === "inter") model.get(c.rd)!.set(c.rp, { s: "unbound", accept: op.who });
            }
            break;
          }
          case "scan": {
            const got: number[] = [];
            scanPending(ev.sharedInfo(op.who), 0, (p) => got.push(p), { full: true });
            assert.deepEqual(
              got.sort((x, y) => x - y),
              [...pending.get(op.who)!].sort((x, y) => x - y),
            );
            pending.get(op.who)!.clear();
            break;
          }
        }
        for (const d of [A, B]) {
          assert.equal(ev.portCount(d), model.get(d)!.size);
          for (let p = 1; p < 8; p++) assert.equal(isPending(ev.sharedInfo(d), p), pending.get(d)!.has(p));
        }
      }
      teardown();
    }),
    { numRuns: 150 },
  );
});

async function threads(senders: number, sends: number, pingpong: boolean) {
  const store = PageStore.create({ frames: 512 });
  const ev = new EventChannels(store);
  for (const d of [A, B]) {
    store.createDomain(d);
    ev.initDomain(d, { sharedInfoFrame: store.allocFrame(d) });
  }
  const u = ev.allocUnbound(B, { dom: B, remoteDom: A });
  const port = ev.bindInterdomain(A, { remoteDom: B, remotePort: u.port }).port;
  scanPending(ev.sharedInfo(A), 0, () => {}); // drop the bind-time pending event
  const counters = new SharedArrayBuffer(16);
  const url = new URL("./testing/send-worker.js", import.meta.url);
  const spawn = (role: "sender" | "receiver", domid: number, p: number) =>
    new Promise<{ events: number; consumed: number; wrongPort: number }>((resolve, reject) => {
      const w = new Worker(url, {
        workerData: { buffer: store.buffer, role, domid, port: p, sends, counters, senders, pingpong },
      });
      w.once("message", resolve);
      w.once("error", reject);
    });
  // Senders in A send on `port`; the receiver in B scans its port u.port.
  const recv = spawn("receiver", B, u.port);
  const sent = await Promise.all(Array.from({ length: senders }, () => spawn("sender", A, port)));
  void sent;
  return { r: await recv, total: senders * sends };
}

test("threads: concurrent sends are never lost (coalesced at most, never doubled)", async () => {
  const { r, total } = await threads(2, 20000, false);
  assert.equal(r.wrongPort, 0);
  assert.equal(r.consumed, total, "the last event was seen after the last item was produced");
  assert.ok(r.events >= 1 && r.events <= total, `${r.events} events for ${total} sends`);
});

test("threads: ping-pong sends are delivered exactly once each", async () => {
  const { r, total } = await threads(1, 3000, true);
  assert.equal(r.events, total);
  assert.equal(r.consumed, total);
});

test("per-vCPU receivers: a scan takes only its own vCPU's ports; bind_vcpu moves and re-raises", () => {
  const { ev, kicks, teardown } = world();
  const si = ev.sharedInfo(A);
  const owner = ev.portVcpuReader(A);
  const scan = (vcpu: number, full = false) => {
    const got: number[] = [];
    scanPending(si, vcpu, (p) => got.push(p), { notifyVcpu: owner, full });
    return got;
  };
  // Three channels B → A; A's ends: one on vCPU 0, two on vCPU 1 (one moved while unbound).
  const ch = [0, 1, 2].map(() => ({ a: ev.allocUnbound(A, { dom: A, remoteDom: B }).port, b: 0 }));
  assert.equal(ev.bindVcpu(A, { port: ch[2]!.a, vcpu: 1 }), 0, "an unbound port may move");
  for (const c of ch) c.b = ev.bindInterdomain(B, { remoteDom: A, remotePort: c.a }).port;
  assert.equal(ev.bindVcpu(A, { port: ch[1]!.a, vcpu: 1 }), 0, "an interdomain port may move");
  assert.deepEqual(
    ch.map((c) => owner(c.a)),
    [0, 1, 1],
  );
  assert.equal(ev.evtchnStatus(A, { dom: A, port: ch[2]!.a }).vcpu, 1, "the move survives the bind");
  assert.equal(ev.portVcpu(A, ch[1]!.a), 1);

  kicks.length = 0;
  for (const c of ch) assert.equal(ev.evtchnSend(B, c.b), 0);
  assert.deepEqual(
    kicks,
    [
      [A, 0, ch[0]!.a],
      [A, 1, ch[1]!.a],
    ],
    "each port raises its own vCPU (the third coalesces into vCPU 1's pending upcall)",
  );
  assert.deepEqual(scan(0, true), [ch[0]!.a], "vCPU 0 takes only its port, even in a full scan");
  assert.ok(isPending(si, ch[1]!.a) && isPending(si, ch[2]!.a), "vCPU 1's ports stay pending");
  assert.equal(upcallPending(si, 1), true);
  assert.deepEqual(scan(1), [ch[1]!.a, ch[2]!.a]);
  assert.deepEqual(scan(0, true), []);
  assert.deepEqual(scan(1, true), []);

  // A pending port moved to another vCPU is raised there, and only there.
  assert.equal(ev.evtchnSend(B, ch[0]!.b), 0);
  kicks.length = 0;
  assert.equal(ev.bindVcpu(A, { port: ch[0]!.a, vcpu: 1 }), 0);
  assert.deepEqual(kicks, [[A, 1, ch[0]!.a]]);
  assert.deepEqual(scan(0, true), []);
  assert.deepEqual(scan(1), [ch[0]!.a]);

  // A masked pending port moves silently; unmasking raises it on the new vCPU.
  maskPort(si, ch[2]!.a);
  assert.equal(ev.evtchnSend(B, ch[2]!.b), 0);
  kicks.length = 0;
  assert.equal(ev.bindVcpu(A, { port: ch[2]!.a, vcpu: 0 }), 0);
  assert.deepEqual(kicks, []);
  assert.equal(ev.evtchnUnmask(A, ch[2]!.a), 0);
  assert.deepEqual(kicks, [[A, 0, ch[2]!.a]]);
  assert.deepEqual(scan(1, true), []);
  assert.deepEqual(scan(0), [ch[2]!.a]);

  // Refusals, as Xen: IPIs and per-vCPU VIRQs stay put; no such vCPU; free and reserved ports.
  const ipi = ev.bindIpi(A, { vcpu: 0 }).port;
  const timer = ev.bindVirq(A, { virq: VIRQ_TIMER, vcpu: 0 }).port;
  assert.equal(ev.bindVcpu(A, { port: ipi, vcpu: 1 }), EINVAL);
  assert.equal(ev.bindVcpu(A, { port: timer, vcpu: 1 }), EINVAL);
  assert.equal(ev.bindVcpu(A, { port: ch[0]!.a, vcpu: 2 }), ENOENT, "A has 2 vCPUs");
  assert.equal(ev.bindVcpu(A, { port: 0, vcpu: 1 }), EINVAL);
  assert.equal(ev.bindVcpu(A, { port: 200, vcpu: 1 }), EINVAL);
  assert.equal(ev.bindVcpu(A, { port: 5000, vcpu: 1 }), EINVAL);

  // Closing resets the binding to vCPU 0 (the peer keeps its own).
  assert.equal(ev.evtchnClose(A, ch[1]!.a), 0);
  assert.equal(owner(ch[1]!.a), 0);
  teardown();
});

interface VcpuRun {
  vcpus: number[];
  bindFirst: boolean[];
  schedule: number[];
  pingpong: boolean;
}

async function vcpuThreads(run: VcpuRun) {
  const store = PageStore.create({ frames: 512 });
  const ev = new EventChannels(store);
  store.createDomain(A);
  ev.initDomain(A, { sharedInfoFrame: store.allocFrame(A), maxVcpus: 4 });
  store.createDomain(B);
  ev.initDomain(B, { sharedInfoFrame: store.allocFrame(B) });
  // A port of A on vCPU 0 that nobody scans: it must never be taken by the vCPU 1/2 receivers.
  const stray = ev.allocUnbound(A, { dom: A, remoteDom: B }).port;
  const strayB = ev.bindInterdomain(B, { remoteDom: A, remotePort: stray }).port;
  const channels = run.vcpus.map((vcpu, i) => {
    const recv = ev.allocUnbound(A, { dom: A, remoteDom: B }).port;
    if (run.bindFirst[i]) assert.equal(ev.bindVcpu(A, { port: recv, vcpu }), 0);
    const send = ev.bindInterdomain(B, { remoteDom: A, remotePort: recv }).port;
    if (!run.bindFirst[i]) assert.equal(ev.bindVcpu(A, { port: recv, vcpu }), 0);
    return { send, recv, vcpu };
  });
  assert.equal(ev.evtchnSend(B, strayB), 0);
  const counters = new SharedArrayBuffer(4 * (4 + 4 * channels.length));
  const c = new Int32Array(counters);
  const url = new URL("./testing/vcpu-worker.js", import.meta.url);
  const spawn = (role: "sender" | "receiver", vcpu: number) =>
    new Promise<{ stuck?: boolean; timedOut?: boolean }>((resolve, reject) => {
      const w = new Worker(url, {
        workerData: {
          buffer: store.buffer,
          role,
          domid: A,
          vcpu,
          sender: B,
          schedule: run.schedule,
          channels,
          pingpong: run.pingpong,
          counters,
        },
      });
      w.once("message", resolve);
      w.once("error", reject);
    });
  const receivers = [spawn("receiver", 1), spawn("receiver", 2)];
  const sender = await spawn("sender", 0);
  const got = await Promise.all(receivers);
  assert.equal(sender.stuck, false, "every ping-pong send was acknowledged");
  assert.deepEqual(
    got.map((g) => g.timedOut),
    [false, false],
  );
  assert.equal(c[1], 0, "no receiver dispatched a port of the other vCPU");
  assert.equal(c[2], 0, "no receiver dispatched a port it does not know (vCPU 0's stray port)");
  assert.ok(isPending(ev.sharedInfo(A), stray), "vCPU 0's port is still pending for vCPU 0");
  channels.forEach((_, i) => {
    const [produced, consumed, dispatched] = [c[4 + 4 * i]!, c[5 + 4 * i]!, c[6 + 4 * i]!];
    const sends = run.schedule.filter((x) => x === i).length;
    assert.equal(produced, sends);
    assert.equal(consumed, produced, `channel ${i}: the last send was seen (nothing lost)`);
    assert.ok(dispatched <= produced, `channel ${i}: at most once per send`);
    if (sends) assert.ok(dispatched >= 1);
    if (run.pingpong) assert.equal(dispatched, produced, `channel ${i}: exactly once per pending edge`);
  });
}

test("threads: receivers on two vCPUs of one domain each get exactly their own events", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 8 }).chain((n) =>
        fc.record({
          vcpus: fc.array(fc.constantFrom(1, 2), { minLength: n, maxLength: n }),
          bindFirst: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
          schedule: fc.array(fc.nat({ max: n - 1 }), { minLength: 1, maxLength: 3000 }),
          pingpong: fc.boolean(),
        }),
      ),
      vcpuThreads,
    ),
    { numRuns: 12 },
  );
});

test("Xen-consumed ports (ioreq): a send from the bound peer wakes Xen's wake word, not the guest", () => {
  const { store, ev, kicks, teardown } = world();
  const x = ev.allocXenUnbound(A, 1, 0); // guest A's vCPU 1, the emulator is dom0
  assert.equal(x.rc, 0);
  assert.ok(ev.isXenPort(A, x.port));
  const b = ev.bindInterdomain(0, { remoteDom: A, remotePort: x.port });
  assert.equal(b.rc, 0);
  kicks.length = 0;
  const w = ev.xenWakeWordIndex(A, 1);
  assert.ok(w > 0);
  const before = Atomics.load(store.i32, w);
  assert.equal(ev.evtchnSend(0, b.port), 0);
  assert.equal(Atomics.load(store.i32, w), before + 1, "the vCPU's Xen wake word moved");
  assert.deepEqual(kicks, [], "no upcall for the guest");
  assert.equal(isPending(ev.sharedInfo(A), x.port), false, "no pending bit in the guest's shared_info");
  // Xen → emulator: pending on dom0's port.
  assert.equal(ev.xenSend(A, x.port), 0);
  assert.equal(isPending(ev.sharedInfo(0), b.port), true);
  // The guest may not send on, close or re-bind it; EVTCHNOP_reset leaves it.
  assert.equal(ev.evtchnSend(A, x.port), EINVAL);
  assert.equal(ev.evtchnClose(A, x.port), EINVAL);
  assert.equal(ev.bindVcpu(A, { port: x.port, vcpu: 0 }), EINVAL);
  assert.equal(ev.evtchnReset(A, A), 0);
  assert.equal(ev.evtchnStatus(0, { dom: A, port: x.port }).status, EVTCHNSTAT_interdomain);
  // The emulator closing its end leaves the Xen port unbound, still Xen's, accepting dom0 again.
  assert.equal(ev.evtchnClose(0, b.port), 0);
  assert.equal(ev.evtchnStatus(0, { dom: A, port: x.port }).status, EVTCHNSTAT_unbound);
  assert.ok(ev.isXenPort(A, x.port));
  assert.equal(ev.xenSend(A, x.port), 0, "unbound: dropped");
  // A plain port is not Xen's.
  const plain = ev.allocUnbound(A, { dom: A, remoteDom: 0 });
  assert.equal(ev.xenSend(A, plain.port), EINVAL);
  assert.equal(ev.freeXenPort(A, plain.port), EINVAL);
  // Rebound, then freed by Xen: the emulator's port goes back to unbound.
  const b2 = ev.bindInterdomain(0, { remoteDom: A, remotePort: x.port });
  assert.equal(ev.freeXenPort(A, x.port), 0);
  assert.equal(ev.isXenPort(A, x.port), false);
  assert.equal(ev.evtchnStatus(0, { dom: 0, port: b2.port }).status, EVTCHNSTAT_unbound);
  assert.equal(ev.allocXenUnbound(A, 5, 0).rc, ENOENT, "no such vCPU");
  teardown();
});
