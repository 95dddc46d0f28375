// The link engine over a simulated network (testing/sim.ts): request/response rounds through a
// mapped ring and data page between the hypervisor's host and a backend host with every link fault
// (drop, duplicate, reorder, stall; seeded, printed), a fence-checked replica property under random
// faults and tiny windows (resync), a peer restarting (new epoch: its mappings released at the
// hypervisor, its placements back), a stale epoch replaying old frames (refused), a write to a frame
// the peer may not write (refused, counted), and three hosts (guest, hypervisor, backend) with
// forwarded, fenced events.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_okay,
  GNTST_permission_denied,
} from "@xensim/abi";
import { scanPending } from "@xensim/evtchn";
import { grantAccess } from "@xensim/gnttab";
import { Hypervisor } from "@xensim/hypervisor";
import { PAGE_SIZE } from "@xensim/memory";
import { seededRandom, testSeed } from "@xensim/testkit";
import fc from "fast-check";
import { encodeHello, FRAME_DATA, FrameDecoder, LINK_VERSION } from "./codec.js";
import { type CopyOp, decodeStatuses, encodeCopyRequest, OP_COPY } from "./requests.js";
import { BLKBACK_VCPU, LinkThread, pattern, type TwoHosts, twoHosts } from "./testing/rig.js";
import { SimNet } from "./testing/sim.js";

const seed = testSeed();
console.log(`link engine tests: seed ${seed} (XENSIM_SEED=${seed} to replay)`);

const ALL_FAULTS = {
  drop: 0.08,
  duplicate: 0.08,
  reorder: 0.08,
  stall: 0.04,
  stallMs: [10, 60] as [number, number],
};

/**
 * `rounds` request/response rounds: the guest (H) writes a request into the data page and its
 * index into the ring page, kicks; the backend (B), on its event, checks it sees exactly that round's
 * bytes (never a stale one after the notification), answers into the same pages, sends; the guest
 * checks the answer. Returns the rounds done.
 */
function rounds(
  t: TwoHosts,
  n: number,
  from = 1,
  hooks: { afterKick?: (k: number) => void; afterAnswer?: (k: number) => void } = {},
): number {
  const { net, guest, back, domU, frames } = t;
  const gRing = guest.store.viewOfFrames([frames.ring]);
  const gData = guest.store.viewOfFrames([frames.data]);
  const si = guest.ev.sharedInfo(domU);
  const m = back.map(0, domU, [8, 9]);
  assert.deepEqual(m.statuses, [GNTST_okay, GNTST_okay]);
  const bRing = back.store.viewOfFrames([m.locals[0]!]);
  const bData = back.store.viewOfFrames([m.locals[1]!]);
  // Events from before (the bind's, which Xen raises) are not this test's.
  net.run(50);
  back.events(0, BLKBACK_VCPU);
  scanPending(si, 0, () => {});
  let done = 0;
  for (let k = from; k < from + n; k++) {
    gData.write(0, pattern(k, 1, 2048));
    gData.markWritten(0, 2048);
    gRing.atomicStore32(0, k);
    gRing.markWritten(0, 4);
    assert.equal(guest.ev.evtchnSend(domU, guest.port), 0);
    hooks.afterKick?.(k);
    // The backend's event, then the bytes it sees.
    let got = false;
    assert.ok(
      net.run(30_000, () => {
        if (!got && back.events(0, BLKBACK_VCPU).includes(t.backPort)) got = true;
        return got;
      }),
      `round ${k}: backend event`,
    );
    assert.equal(bRing.atomicLoad32(0), k, `round ${k}: the backend sees this round's index`);
    assert.deepEqual(bData.read(0, 2048), pattern(k, 1, 2048), `round ${k}: request bytes after the event`);
    bData.write(2048, pattern(k, 2, 2048));
    bData.markWritten(2048, 2048);
    bRing.atomicStore32(4, k);
    bRing.markWritten(4, 4);
    assert.ok(back.area.appendSend(0, t.backPort));
    hooks.afterAnswer?.(k);
    let answered = false;
    assert.ok(
      net.run(30_000, () => {
        scanPending(si, 0, (p) => {
          if (p === guest.port) answered = true;
        });
        return answered;
      }),
      `round ${k}: guest event`,
    );
    assert.equal(gRing.atomicLoad32(4), k, `round ${k}: the guest sees the response index`);
    assert.deepEqual(
      gData.read(2048, 2048),
      pattern(k, 2, 2048),
      `round ${k}: response bytes after the event`,
    );
    done++;
  }
  const u = back.unmap(0, m.handles);
  assert.deepEqual(u.statuses, [GNTST_okay, GNTST_okay]);
  return done;
}

test("rounds through a mapped ring and data page, clean link", () => {
  const t = twoHosts(seed);
  assert.equal(rounds(t, 50), 50);
  assert.equal(t.hv.gt.mappingCount(0), 0, "no mapping left at the hypervisor");
  assert.equal(t.H.engine.stats.refusedRanges, 0);
});

test("rounds under every link fault both ways (drop, duplicate, reorder, stall)", () => {
  const allKinds = new Set<string>();
  for (const s of [seed, seed + 1, seed + 2]) {
    const t = twoHosts(s, { maxDelayMs: 2 });
    t.net.rules.set("hostH>hostB", ALL_FAULTS);
    t.net.rules.set("hostB>hostH", ALL_FAULTS);
    assert.equal(rounds(t, 60), 60, `seed ${s}`);
    const kinds = new Set<string>();
    for (const [a, b] of [
      ["hostH", "hostB"],
      ["hostB", "hostH"],
    ] as const)
      for (const r of t.net.faults(a, b)?.records ?? []) kinds.add(r.kind);
    for (const k of kinds) allKinds.add(k);
    assert.equal(t.hv.gt.mappingCount(0), 0);
  }
  assert.deepEqual([...allKinds].sort(), ["drop", "duplicate", "reorder", "stall"], "every fault happened");
});

test("property: at every fence the replica holds the writer's bytes (random writes, faults, tiny windows)", () => {
  const op = fc.record({
    frame: fc.integer({ min: 0, max: 2 }),
    word: fc.integer({ min: 0, max: 1020 }),
    words: fc.integer({ min: 1, max: 256 }), // beyond 128 words (512 bytes): bulk ranges, read when drained
    kick: fc.boolean(),
  });
  let resyncs = 0;
  let retransmits = 0;
  fc.assert(
    fc.property(
      fc.array(op, { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.record({
        drop: fc.double({ min: 0, max: 0.2, noNaN: true }),
        duplicate: fc.double({ min: 0, max: 0.2, noNaN: true }),
        reorder: fc.double({ min: 0, max: 0.2, noNaN: true }),
        stall: fc.double({ min: 0, max: 0.05, noNaN: true }),
      }),
      fc.integer({ min: 2, max: 64 }),
      (ops, s, rules, windowFrames) => {
        const net = new SimNet(seededRandom(s), 2);
        const H = net.add("hostH", 4096);
        const B = net.add("hostB", 4096);
        const hv = new Hypervisor(H.thread(), { hostId: "hostH" });
        hv.bootDom0({ memoryMib: 1, vcpus: 4 });
        const { domid } = hv.createDomain(0, { memoryMib: 1 });
        const sender = { windowFrames, retransmitMs: 30 };
        H.start({ sender });
        B.start({ sender });
        B.engine.setHypervisorHost("hostH");
        net.rules.set("hostH>hostB", { ...rules, stallMs: [5, 40] });
        net.rules.set("hostB>hostH", { ...rules, stallMs: [5, 40] });
        const table = hv.gt.sharedView(domid);
        for (let i = 0; i < 3; i++) grantAccess(table, 8 + i, 0, i, false);
        const { port } = hv.evtchnAllocUnbound(domid, domid, 0);
        const bound = hv.evtchnBindInterdomain(0, domid, port);
        const back = new LinkThread(B, net);
        back.place(0, BLKBACK_VCPU);
        hv.evtchnBindVcpu(0, bound.port, BLKBACK_VCPU);
        const m = back.map(0, domid, [8, 9, 10]);
        assert.deepEqual(m.statuses, [0, 0, 0]);
        const g = H.thread();
        const gEv = new (hv.ev.constructor as typeof import("@xensim/evtchn").EventChannels)(g);
        const origin = hv.gfnToFrame(0, domid, [0, 1, 2]).frames;
        const gv = origin.map((f) => g.viewOfFrames([f]));
        const bv = m.locals.map((f) => back.store.viewOfFrames([f]));
        // The bind's own event (Xen raises one) is not a kick of this test.
        net.run(50);
        back.events(0, BLKBACK_VCPU);
        let stamp = 0;
        // Fences: at each kick, a snapshot of the writer's words; the replica must be at least as new.
        const fences: Array<Uint32Array[]> = [];
        let checked = 0;
        const check = (): void => {
          if (!back.events(0, BLKBACK_VCPU).includes(bound.port)) return;
          // Every fence taken so far is covered (events coalesce: the newest kick stands for all).
          const snap = fences[fences.length - 1];
          if (!snap) return;
          for (let f = 0; f < 3; f++) {
            const now = new Uint32Array(bv[f]!.read(0, PAGE_SIZE).buffer);
            for (let w = 0; w < 1024; w++)
              if (now[w]! < snap[f]![w]!)
                throw new Error(
                  `frame ${f} word ${w}: replica ${now[w]} older than the fence's ${snap[f]![w]}`,
                );
          }
          checked++;
        };
        for (const o of ops) {
          const len = Math.min(o.words, 1024 - o.word);
          const bytes = new Uint8Array(len * 4);
          const dv = new DataView(bytes.buffer);
          stamp++;
          for (let i = 0; i < len; i++) dv.setUint32(i * 4, stamp, true);
          gv[o.frame]!.write(o.word * 4, bytes);
          gv[o.frame]!.markWritten(o.word * 4, len * 4);
          if (o.kick) {
            fences.push(gv.map((v) => new Uint32Array(v.read(0, PAGE_SIZE).buffer)));
            gEv.evtchnSend(domid, port);
            // Wait for this kick's event (it may coalesce with later ones: the last fence covers).
            net.run(20_000, () => {
              const before = checked;
              check();
              return checked > before;
            });
          }
          net.run(1);
        }
        // Quiescent: byte-equal.
        net.run(3000, () =>
          gv.every((v, i) => Buffer.compare(v.read(0, PAGE_SIZE), bv[i]!.read(0, PAGE_SIZE)) === 0),
        );
        for (let i = 0; i < 3; i++)
          assert.deepEqual(bv[i]!.read(0, PAGE_SIZE), gv[i]!.read(0, PAGE_SIZE), `frame ${i} at the end`);
        assert.equal(checked, fences.length, "every kick's event came and saw its fence");
        resyncs += H.engine.stats.resyncsSent + B.engine.stats.resyncsSent;
        retransmits += H.engine.stats.retransmitted + B.engine.stats.retransmitted;
      },
    ),
    { seed, numRuns: 40 },
  );
  console.log(`property runs: ${retransmits} frames retransmitted, ${resyncs} resyncs`);
  assert.ok(retransmits > 0, "the faults made the link retransmit");
});

test("the connection drops mid-stream and comes back (same epochs): nothing lost, rounds go on", () => {
  const t = twoHosts(seed, { maxDelayMs: 3 });
  const drop = () => {
    // Some of what was just written may be in flight: it is lost with the connection.
    t.net.run(Math.floor(t.net.rng.next() * 3));
    t.net.disconnect("hostB", "hostH");
    t.net.run(Math.floor(t.net.rng.next() * 20));
  };
  const done = rounds(t, 30, 1, {
    afterKick: (k) => {
      if (k % 3 === 0) drop();
    },
    afterAnswer: (k) => {
      if (k % 4 === 0) drop();
    },
  });
  assert.equal(done, 30);
  assert.equal(t.H.engine.stats.epochChanges, 0, "no restart: the same epochs resumed");
  assert.equal(t.hv.gt.mappingCount(0), 0, "unmapped at the end");
});

test("a peer restarts: new epoch drops its mappings and placements at the hypervisor, I/O resumes", () => {
  const t = twoHosts(seed);
  const m = t.back.map(0, t.domU, [8, 9]);
  assert.equal(t.hv.gt.mappingCount(0), 2);
  assert.equal(t.H.engine.area.placement(0, BLKBACK_VCPU), t.H.engine.area.peerIndex("hostB"));
  // B dies mid-stream (its queue and connection vanish) and starts again with a new epoch.
  t.net.disconnect("hostB", "hostH");
  t.B.engine.close();
  t.B.start({}, true);
  t.B.engine.setHypervisorHost("hostH");
  t.net.run(200, () => t.H.engine.stats.epochChanges > 0);
  assert.equal(t.H.engine.stats.epochChanges, 1);
  assert.equal(t.hv.gt.mappingCount(0), 0, "its grant mappings are released");
  assert.equal(t.H.engine.stats.mappingsReleased, 2);
  assert.equal(t.H.engine.area.placement(0, BLKBACK_VCPU), 0, "its event placement came back");
  assert.equal(t.H.engine.area.subscribers(t.frames.ring) & (1 << t.H.engine.area.peerIndex("hostB")), 0);
  void m;
  // The backend's new incarnation registers and maps again; rounds go on.
  t.back.place(0, BLKBACK_VCPU);
  assert.equal(rounds(t, 10), 10);
});

test("a stale epoch replaying old frames is refused; nothing of it is applied", () => {
  const t = twoHosts(seed);
  // Record what B sends in its first epoch.
  const old: Uint8Array[] = [];
  const write = t.net.write.bind(t.net);
  t.net.write = (from, peer, bytes) => {
    if (from.hostId === "hostB") old.push(bytes.slice());
    write(from, peer, bytes);
  };
  const m = t.back.map(0, t.domU, [9]);
  const bData = t.back.store.viewOfFrames([m.locals[0]!]);
  bData.write(0, pattern(1, 9, 64));
  bData.markWritten(0, 64);
  t.net.run(50);
  t.net.write = write;
  t.back.unmap(0, m.handles);
  // The old process's HELLO, as it would open a new connection with it.
  old.unshift(
    encodeHello({
      version: LINK_VERSION,
      hostId: "hostB",
      epoch: t.B.epoch,
      peerEpoch: t.H.epoch,
      lastReceived: 0,
      identity: new Uint8Array(0),
    }),
  );
  // B restarts (new epoch) and talks to H; the old process's frames then come again.
  t.net.disconnect("hostB", "hostH");
  t.B.engine.close();
  t.B.start({}, true);
  t.B.engine.setHypervisorHost("hostH");
  t.net.run(100, () => t.H.engine.stats.epochChanges > 0);
  const gData = t.guest.store.viewOfFrames([t.frames.data]);
  gData.write(0, new Uint8Array(64));
  const appliedBefore = t.H.engine.stats.framesApplied;
  // A separate connection replays the old stream: HELLO (old epoch) first, then its DATA frames.
  const dec = new FrameDecoder();
  let accepted: string | null | undefined;
  for (const b of old)
    dec.push(b, (f) => {
      if (accepted === null) return;
      const r = t.H.engine.onFrame(accepted ?? undefined, f, t.net.now);
      if (accepted === undefined) accepted = r;
    });
  assert.equal(accepted, null, "the old HELLO is refused");
  assert.ok(t.H.engine.stats.staleHellos >= 1);
  assert.equal(t.H.engine.stats.framesApplied, appliedBefore, "no frame of the stale stream was applied");
  assert.deepEqual(gData.read(0, 64), new Uint8Array(64), "the stale write did not land");
  assert.ok(old.some((b) => b[4] === FRAME_DATA));
});

test("a write to a frame the peer may not write is refused and counted; the stream goes on", () => {
  const t = twoHosts(seed);
  const ro = t.back.map(0, t.domU, [10], GNTMAP_host_map | GNTMAP_readonly);
  assert.equal(ro.statuses[0], GNTST_okay);
  const spare = t.back.store.viewOfFrames([ro.locals[0]!]);
  const gSpare = t.guest.store.viewOfFrames([t.frames.spare]);
  const before = gSpare.read(0, 16);
  spare.write(0, pattern(5, 5, 16));
  spare.markWritten(0, 16);
  t.net.run(50, () => t.H.engine.stats.refusedRanges > 0);
  assert.equal(t.H.engine.stats.refusedRanges, 1, "refused and counted");
  assert.equal(t.H.engine.directory.refused.get("hostB"), 1);
  assert.deepEqual(gSpare.read(0, 16), before, "the frame is unchanged");
  assert.equal(rounds(t, 5), 5, "the rest of the stream goes on");
});

test("a grant copy from another host: done after that host's writes, its result there before the answer", () => {
  const t = twoHosts(seed);
  const m = t.back.map(0, t.domU, [8, 9]);
  assert.deepEqual(m.statuses, [GNTST_okay, GNTST_okay]);
  const bRing = t.back.store.viewOfFrames([m.locals[0]!]);
  const bData = t.back.store.viewOfFrames([m.locals[1]!]);
  const copyOp = (k: number): CopyOp => ({
    source: { ref: 9, domid: t.domU, offset: 512 },
    dest: { ref: 8, domid: t.domU, offset: 1024 + k },
    len: 700,
    flags: GNTCOPY_source_gref | GNTCOPY_dest_gref,
  });
  const copy = (caller: number, ops: CopyOp[]) =>
    decodeStatuses(t.back.request(OP_COPY, caller, encodeCopyRequest({ ops, watermarks: [] })));
  for (let k = 1; k <= 5; k++) {
    // B writes the source, then asks for the copy at once: the request follows the bytes.
    bData.write(512, pattern(k, 7, 700));
    bData.markWritten(512, 700);
    assert.deepEqual(copy(0, [copyOp(k)]), [GNTST_okay], `copy ${k}`);
    const hRing = t.guest.store.viewOfFrames([t.frames.ring]);
    assert.deepEqual(hRing.read(1024 + k, 700), pattern(k, 7, 700), `copy ${k} at the hypervisor's host`);
    assert.deepEqual(bRing.read(1024 + k, 700), pattern(k, 7, 700), `copy ${k} back at B with the answer`);
  }
  // Refusals come from the same core, with its codes: a domain B does not act for, a bad ref.
  assert.deepEqual(copy(t.domU, [copyOp(0)]), [GNTST_permission_denied]);
  const bad: CopyOp = { ...copyOp(0), source: { ref: 4000, domid: t.domU, offset: 0 } };
  const expected = t.hv.gt.gnttabCopy(0, bad);
  assert.notEqual(expected, GNTST_okay);
  assert.deepEqual(copy(0, [bad, copyOp(9)]), [expected, GNTST_okay]);
  assert.deepEqual(t.back.unmap(0, m.handles).statuses, [GNTST_okay, GNTST_okay]);
});

test("three hosts: guest, hypervisor and backend apart; forwarded events wait for their fences", () => {
  const net = new SimNet(seededRandom(seed), 2);
  const H = net.add("hostH", 8192);
  const G = net.add("hostG", 8192);
  const B = net.add("hostB", 4096);
  const hv = new Hypervisor(H.thread(), { hostId: "hostH" });
  hv.bootDom0({ memoryMib: 1, vcpus: 4 });
  const { domid } = hv.createDomain(0, { memoryMib: 1, homeHost: "hostG" });
  hv.unpause(0, domid);
  for (const h of [H, G, B]) h.start();
  G.engine.setHypervisorHost("hostH");
  B.engine.setHypervisorHost("hostH");
  for (const [a, b] of [
    ["hostG", "hostB"],
    ["hostB", "hostG"],
    ["hostH", "hostB"],
    ["hostH", "hostG"],
  ])
    net.rules.set(`${a}>${b}`, { drop: 0.05, duplicate: 0.05, reorder: 0.1, stall: 0.02, stallMs: [5, 40] });
  const guest = new LinkThread(G, net);
  guest.home(domid);
  const back = new LinkThread(B, net);
  back.place(0, BLKBACK_VCPU);
  // The guest's own frames at G: grant table and two pages, as replicas of H's.
  const gfnFrames = hv.gfnToFrame(0, domid, [0, 1]).frames;
  const local = (origin: number) => guest.area.replicaOf(origin);
  assert.ok(
    net.run(2000, () => gfnFrames.every((f) => local(f) !== 0)),
    "the home replicas exist",
  );
  const tableFrames = hv.gt.grantFrames(domid);
  const table = guest.store.viewOfFrames(tableFrames.map(local));
  grantAccess(table, 8, 0, 0, false);
  grantAccess(table, 9, 0, 1, false);
  const { port } = hv.evtchnAllocUnbound(domid, domid, 0);
  const bound = hv.evtchnBindInterdomain(0, domid, port);
  hv.evtchnBindVcpu(0, bound.port, BLKBACK_VCPU);
  // H must have the grant entries before B's map: they travel G → H (a kick would order them).
  assert.ok(net.run(2000, () => (hv.gt.sharedView(domid).atomicLoad32(9 * 8) & 0xffff) !== 0));
  const m = back.map(0, domid, [8, 9]);
  assert.deepEqual(m.statuses, [GNTST_okay, GNTST_okay]);
  const gRing = guest.store.viewOfFrames([local(gfnFrames[0]!)]);
  const gData = guest.store.viewOfFrames([local(gfnFrames[1]!)]);
  const bRing = back.store.viewOfFrames([m.locals[0]!]);
  const bData = back.store.viewOfFrames([m.locals[1]!]);
  net.run(100);
  back.events(0, BLKBACK_VCPU);
  guest.events(domid, 0);
  for (let k = 1; k <= 40; k++) {
    gData.write(0, pattern(k, 1, 1024));
    gData.markWritten(0, 1024);
    gRing.atomicStore32(0, k);
    gRing.markWritten(0, 4);
    guest.area.appendSend(domid, port);
    assert.ok(
      net.run(20_000, () => back.events(0, BLKBACK_VCPU).includes(bound.port)),
      `round ${k}: backend event`,
    );
    assert.equal(bRing.atomicLoad32(0), k, `round ${k}: index`);
    assert.deepEqual(
      bData.read(0, 1024),
      pattern(k, 1, 1024),
      `round ${k}: data at B after the forwarded event`,
    );
    bData.write(1024, pattern(k, 2, 1024));
    bData.markWritten(1024, 1024);
    bRing.atomicStore32(4, k);
    bRing.markWritten(4, 4);
    back.area.appendSend(0, bound.port);
    assert.ok(
      net.run(20_000, () => guest.events(domid, 0).includes(port)),
      `round ${k}: guest event`,
    );
    assert.equal(gRing.atomicLoad32(4), k);
    assert.deepEqual(
      gData.read(1024, 1024),
      pattern(k, 2, 1024),
      `round ${k}: response at G after the forwarded event`,
    );
  }
  assert.equal(G.engine.stats.refusedRanges + B.engine.stats.refusedRanges + H.engine.stats.refusedRanges, 0);
  assert.ok(H.engine.stats.sendsExecuted >= 80);
  back.unmap(0, m.handles);
  assert.equal(hv.gt.mappingCount(0), 0);
});
