import assert from "node:assert/strict";
import { test } from "node:test";
import { VDISK_READONLY, XenbusState as S, XenErrno } from "@xensim/abi";
import fc from "fast-check";
import {
  BLKBACK_DEFAULT_CONFIG,
  type BlkbackConfig,
  type BlkbackEffect,
  type BlkbackEvent,
  type BlkbackState,
  blkbackReduce,
  initialBlkbackState,
  readFrontendRings,
} from "./blkback-handshake.js";
import {
  BLKFRONT_DEFAULT_CONFIG,
  type BlkfrontConfig,
  type BlkfrontEffect,
  type BlkfrontEvent,
  type BlkfrontState,
  blkfrontReduce,
  initialBlkfrontState,
} from "./blkfront-handshake.js";
import type { BlockStoreInfo } from "./block-store.js";
import { errorNodeValue, type XenstoreOp } from "./effects.js";
import { BlkifKeyError } from "./keys.js";
import {
  negotiateIndirectSegments,
  negotiatePersistent,
  negotiateQueues,
  negotiateRingPageOrder,
} from "./negotiate.js";

const DISK: BlockStoreInfo = {
  sectors: 2048,
  sectorSize: 512,
  physicalSectorSize: 4096,
  readonly: false,
  flush: true,
  discard: true,
  discardGranularity: 4096,
  discardAlignment: 0,
  discardSecure: false,
};

/** Both device directories and both reducers, with the driver layer played by this harness. */
class Pair {
  front = new Map<string, string>([["state", String(S.Initialising)]]);
  back = new Map<string, string>([
    ["state", String(S.Initialising)],
    ["online", "1"],
  ]);
  fs: BlkfrontState;
  bs: BlkbackState;
  log: string[] = [];
  backEffects: BlkbackEffect[] = [];
  frontEffects: BlkfrontEffect[] = [];
  nextRef = 100;
  removed = false;
  errors: string[] = [];
  constructor(fc: Partial<BlkfrontConfig> = {}, bc: Partial<BlkbackConfig> = {}) {
    this.fs = initialBlkfrontState({ ...BLKFRONT_DEFAULT_CONFIG, ...fc });
    this.bs = initialBlkbackState({ ...BLKBACK_DEFAULT_CONFIG, ...bc });
  }
  keys(m: Map<string, string>): Record<string, string> {
    return Object.fromEntries(m);
  }
  apply(dir: Map<string, string>, op: XenstoreOp): void {
    if (op.kind === "write") dir.set(op.path, op.value);
    else dir.delete(op.path);
  }
  toBack(ev: BlkbackEvent): void {
    const before = this.back.get("state");
    const step = blkbackReduce(this.bs, ev);
    this.bs = step.state;
    const queue: BlkbackEvent[] = [];
    for (const e of step.effects) {
      this.backEffects.push(e);
      switch (e.kind) {
        case "write":
        case "remove":
          this.apply(this.back, e);
          break;
        case "transaction":
          e.ops.forEach((op) => this.apply(this.back, op));
          break;
        case "switchState":
          this.back.set("state", String(e.state));
          break;
        case "fatal":
          this.errors.push(`back: ${errorNodeValue(e)}`);
          break;
        case "connectRings":
          queue.push({ kind: "ringsMapped" });
          break;
        case "unregister":
          this.removed = true;
          break;
      }
    }
    assert.equal(this.back.get("state"), String(this.bs.state), "store and reducer agree on back state");
    if (
      this.back.get("state") !== before ||
      step.effects.some((e) => e.kind === "transaction" && e.ops.some((o) => o.path === "state"))
    )
      this.log.push(`back ${this.back.get("state")}`);
    for (const q of queue) this.toBack(q);
    if (
      this.back.get("state") !== before ||
      step.effects.some((e) => e.kind === "transaction" && e.ops.some((o) => o.path === "state"))
    )
      this.toFront({
        kind: "backendChanged",
        state: Number(this.back.get("state")),
        keys: this.keys(this.back),
      });
  }
  toFront(ev: BlkfrontEvent): void {
    if (this.removed && ev.kind === "backendChanged") return;
    const before = this.front.get("state");
    const step = blkfrontReduce(this.fs, ev);
    this.fs = step.state;
    const queue: BlkfrontEvent[] = [];
    for (const e of step.effects) {
      this.frontEffects.push(e);
      switch (e.kind) {
        case "write":
        case "remove":
          this.apply(this.front, e);
          break;
        case "transaction":
          e.ops.forEach((op) => this.apply(this.front, op));
          break;
        case "switchState":
          this.front.set("state", String(e.state));
          break;
        case "fatal":
          this.errors.push(`front: ${errorNodeValue(e)}`);
          break;
        case "grantRings": {
          const queues = [];
          for (let q = 0; q < e.nrQueues; q++)
            queues.push({ refs: Array.from({ length: e.nrPages }, () => this.nextRef++), evtchn: 10 + q });
          queue.push({ kind: "ringsGranted", queues });
          break;
        }
      }
    }
    assert.equal(this.front.get("state"), String(this.fs.state), "store and reducer agree on front state");
    const changed = this.front.get("state") !== before;
    if (changed) this.log.push(`front ${this.front.get("state")}`);
    for (const q of queue) this.toFront(q);
    if (changed && !this.removed)
      this.toBack({
        kind: "frontendChanged",
        state: Number(this.front.get("state")),
        keys: this.keys(this.front),
      });
  }
  connect(): void {
    this.toBack({ kind: "probed" });
    this.toBack({ kind: "vbdOpened", vbd: { info: DISK } });
  }
}

test("connect: Initialising → InitWait → Initialised → Connected on both ends, every §2.4 key", () => {
  const p = new Pair();
  p.connect();
  assert.deepEqual(p.log, ["back 2", "front 3", "back 4", "front 4"]);
  assert.equal(p.fs.state, S.Connected);
  assert.equal(p.bs.state, S.Connected);
  // backend at probe
  assert.equal(p.back.get("feature-max-indirect-segments"), "256");
  assert.equal(p.back.get("multi-queue-max-queues"), "4");
  assert.equal(p.back.get("max-ring-page-order"), "4");
  // frontend transport keys (defaults: order 0, up to 4 queues → 4 queues)
  assert.equal(p.front.get("multi-queue-num-queues"), "4");
  assert.equal(p.front.get("queue-0/ring-ref"), "100");
  assert.equal(p.front.get("queue-3/event-channel"), "13");
  assert.equal(p.front.has("ring-ref"), false);
  assert.equal(p.front.has("ring-page-order"), false);
  assert.equal(p.front.get("protocol"), "x86_64-abi");
  assert.equal(p.front.get("feature-persistent"), "1");
  // backend at Connected
  for (const [k, v] of [
    ["feature-flush-cache", "1"],
    ["feature-barrier", "1"],
    ["feature-discard", "1"],
    ["discard-granularity", "4096"],
    ["discard-alignment", "0"],
    ["feature-persistent", "1"],
    ["sectors", "2048"],
    ["info", "0"],
    ["sector-size", "512"],
    ["physical-sector-size", "4096"],
  ])
    assert.equal(p.back.get(k!), v, k);
  assert.equal(p.back.has("discard-secure"), false);
  assert.deepEqual(p.fs.disk, {
    sectors: 2048,
    info: 0,
    sectorSize: 512,
    physicalSectorSize: 4096,
    flush: true,
    barrier: true,
    discard: true,
    discardGranularity: 4096,
    discardAlignment: 0,
    discardSecure: false,
    persistent: true,
    maxIndirectSegments: 32,
  });
  const connectRings = p.backEffects.find((e) => e.kind === "connectRings");
  assert.deepEqual(connectRings, {
    kind: "connectRings",
    abi: "x86_64",
    ringPageOrder: 0,
    multiRef: false,
    queues: [
      { refs: [100], evtchn: 10 },
      { refs: [101], evtchn: 11 },
      { refs: [102], evtchn: 12 },
      { refs: [103], evtchn: 13 },
    ],
    persistent: true,
  });
  assert.deepEqual(p.errors, []);
});

test("multi-page single queue: ring-page-order + ring-ref0..N-1 at top level", () => {
  const p = new Pair({ maxRingPageOrder: 2, maxQueues: 1, abi: "x86_32" }, { maxRingPageOrder: 4 });
  p.connect();
  assert.equal(p.bs.state, S.Connected);
  assert.equal(p.front.get("ring-page-order"), "2");
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => p.front.get(`ring-ref${i}`)),
    ["100", "101", "102", "103"],
  );
  assert.equal(p.front.has("multi-queue-num-queues"), false);
  assert.equal(p.front.get("protocol"), "x86_32-abi");
  assert.deepEqual(p.bs.rings, {
    abi: "x86_32",
    ringPageOrder: 2,
    multiRef: true,
    queues: [{ refs: [100, 101, 102, 103], evtchn: 10 }],
    persistent: true,
  });
});

test("multi-page multi-queue: order capped by the backend, queue-i/ring-refN", () => {
  const p = new Pair({ maxRingPageOrder: 6, maxQueues: 8 }, { maxRingPageOrder: 1, maxQueues: 2 });
  p.connect();
  assert.equal(p.fs.ringPageOrder, 1);
  assert.equal(p.fs.nrQueues, 2);
  assert.equal(p.front.get("ring-page-order"), "1");
  assert.equal(p.front.get("multi-queue-num-queues"), "2");
  assert.equal(p.front.get("queue-1/ring-ref1"), "103");
  assert.equal(p.front.get("queue-1/event-channel"), "11");
  assert.deepEqual(
    p.bs.rings?.queues.map((q) => q.refs),
    [
      [100, 101],
      [102, 103],
    ],
  );
});

test("close: backend Closing → frontend Closed → backend Closed; rings released on both ends", () => {
  const p = new Pair();
  p.connect();
  p.log = [];
  p.frontEffects = [];
  p.backEffects = [];
  p.toFront({ kind: "closeRequested" });
  assert.deepEqual(p.log, ["front 5", "back 5", "front 6", "back 6"]);
  assert.ok(p.backEffects.some((e) => e.kind === "disconnectRings"));
  assert.deepEqual(
    p.frontEffects.map((e) => e.kind),
    ["disconnected", "switchState", "switchState", "freeRings"],
  );
  assert.equal(p.removed, false, "online is still 1: the device stays");
});

test("backend directory removed once both ends are Closed (state reads Unknown): the rings are freed", () => {
  const p = new Pair();
  p.connect();
  // The frontend closes; the backend's final Closed is never seen — the toolstack removed its
  // directory first (libxl__device_destroy), so the state watch reads Unknown.
  let s = blkfrontReduce(p.fs, { kind: "backendChanged", state: S.Closing, keys: {} }).state;
  assert.equal(s.state, S.Closed);
  assert.ok(s.rings !== undefined, "rings still granted: the backend may still map them");
  const r = blkfrontReduce(s, { kind: "backendChanged", state: S.Unknown, keys: {} });
  assert.deepEqual(
    r.effects.map((e) => e.kind),
    ["freeRings"],
  );
  s = r.state;
  assert.equal(s.rings, undefined);
  // Unknown while still connected changes nothing (a transient read of a vanished node).
  const q = new Pair();
  q.connect();
  const still = blkfrontReduce(q.fs, { kind: "backendChanged", state: S.Unknown, keys: {} });
  assert.deepEqual(still.effects, []);
  assert.equal(still.state.state, S.Connected);
});

test("reconnect: frontend back to Initialising after backend Closed → InitWait → Connected again", () => {
  const p = new Pair();
  p.connect();
  p.toFront({ kind: "closeRequested" });
  p.log = [];
  p.toFront({ kind: "reconnectRequested" });
  assert.deepEqual(p.log, ["front 1", "back 2", "front 3", "back 4", "front 4"]);
  assert.equal(p.front.get("queue-0/ring-ref"), "104", "fresh grants");
});

test("online=0 removal while connected: Closing, frontend Closed, backend Closed and unregistered", () => {
  const p = new Pair();
  p.connect();
  p.log = [];
  p.back.set("online", "0");
  p.toBack({ kind: "onlineChanged", online: false });
  assert.deepEqual(p.log, ["back 5", "front 6", "back 6"]);
  assert.equal(p.removed, true);
  assert.equal(p.bs.phase, "removed");
  assert.deepEqual(
    blkbackReduce(p.bs, { kind: "probed" }).effects,
    [],
    "a removed device ignores everything",
  );
});

test("online=0 before any frontend: Closed and unregistered at once", () => {
  const s0 = blkbackReduce(initialBlkbackState(), { kind: "probed" }).state;
  const step = blkbackReduce(s0, { kind: "onlineChanged", online: false });
  assert.deepEqual(step.effects, [{ kind: "switchState", state: S.Closed }, { kind: "unregister" }]);
});

test("resize: backend re-writes sectors and Connected; frontend re-reads sectors", () => {
  const p = new Pair();
  p.connect();
  p.frontEffects = [];
  p.log = [];
  p.toBack({ kind: "resized", sectors: 4096 });
  assert.equal(p.back.get("sectors"), "4096");
  assert.deepEqual(p.log, ["back 4"]);
  assert.deepEqual(p.frontEffects, [{ kind: "resize", sectors: 4096 }]);
  assert.equal(p.fs.disk?.sectors, 4096);
  assert.equal(p.fs.state, S.Connected);
});

test("frontend that does not wait for InitWait: backend Connected seen while Initialising", () => {
  // Backend skipped InitWait: the frontend talks, goes Initialised and connects in one go.
  let fs = initialBlkfrontState();
  const backKeys = {
    sectors: "8",
    info: String(VDISK_READONLY),
    "sector-size": "512",
    "max-ring-page-order": "0",
  };
  let step = blkfrontReduce(fs, { kind: "backendChanged", state: S.Connected, keys: backKeys });
  assert.deepEqual(step.effects, [{ kind: "grantRings", nrQueues: 1, nrPages: 1 }]);
  fs = step.state;
  step = blkfrontReduce(fs, { kind: "ringsGranted", queues: [{ refs: [7], evtchn: 3 }] });
  assert.deepEqual(
    step.effects.map((e) => (e.kind === "switchState" ? `state ${e.state}` : e.kind)),
    ["transaction", "state 3", "connected", "state 4"],
  );
  assert.equal(step.state.disk?.info, VDISK_READONLY);
  assert.equal(step.state.disk?.maxIndirectSegments, 0);
});

const FRONT_OK = { "ring-ref": "8", "event-channel": "5", protocol: "x86_64-abi" };

// Backend reading the frontend's keys: (name, keys, expected rings | errno).
const RING_TABLE: [
  string,
  Record<string, string>,
  { refs: number[][]; multiRef: boolean; abi: string } | number,
][] = [
  ["single page: ring-ref", FRONT_OK, { refs: [[8]], multiRef: false, abi: "x86_64" }],
  [
    "ring-page-order 0 present → ring-ref0, not ring-ref",
    { ...FRONT_OK, "ring-page-order": "0", "ring-ref0": "9" },
    { refs: [[9]], multiRef: true, abi: "x86_64" },
  ],
  ["ring-page-order 0 but only ring-ref → error", { ...FRONT_OK, "ring-page-order": "0" }, XenErrno.ENOENT],
  [
    "order 1: ring-ref0, ring-ref1",
    { ...FRONT_OK, "ring-page-order": "1", "ring-ref0": "20", "ring-ref1": "21" },
    { refs: [[20, 21]], multiRef: true, abi: "x86_64" },
  ],
  ["order 1 missing ring-ref1", { ...FRONT_OK, "ring-page-order": "1", "ring-ref0": "20" }, XenErrno.ENOENT],
  ["order 5 > max 4", { ...FRONT_OK, "ring-page-order": "5" }, XenErrno.EINVAL],
  ["order 4294967295", { ...FRONT_OK, "ring-page-order": "4294967295" }, XenErrno.EINVAL],
  ["order -1", { ...FRONT_OK, "ring-page-order": "-1" }, XenErrno.EINVAL],
  ["0 queues", { ...FRONT_OK, "multi-queue-num-queues": "0" }, XenErrno.ENOSYS],
  ["5 queues > max 4", { ...FRONT_OK, "multi-queue-num-queues": "5" }, XenErrno.ENOSYS],
  [
    "2 queues under queue-i/",
    {
      protocol: "x86_64-abi",
      "multi-queue-num-queues": "2",
      "queue-0/ring-ref": "1",
      "queue-0/event-channel": "2",
      "queue-1/ring-ref": "3",
      "queue-1/event-channel": "4",
    },
    { refs: [[1], [3]], multiRef: false, abi: "x86_64" },
  ],
  ["2 queues but keys at top level", { ...FRONT_OK, "multi-queue-num-queues": "2" }, XenErrno.ENOENT],
  [
    "no protocol → x86_32-abi (Linux blkback on x86)",
    { "ring-ref": "8", "event-channel": "5" },
    { refs: [[8]], multiRef: false, abi: "x86_32" },
  ],
  ["protocol arm-abi → ENOSYS", { ...FRONT_OK, protocol: "arm-abi" }, XenErrno.ENOSYS],
  ["protocol garbage → ENOSYS", { ...FRONT_OK, protocol: "x86_64-abi " }, XenErrno.ENOSYS],
  ["no event-channel", { "ring-ref": "8" }, XenErrno.ENOENT],
  ["ring-ref not a number", { ...FRONT_OK, "ring-ref": "0x10" }, XenErrno.EINVAL],
  ["ring-ref with trailing junk", { ...FRONT_OK, "ring-ref": "16 " }, XenErrno.EINVAL],
  ["ring-ref above u32", { ...FRONT_OK, "ring-ref": "4294967296" }, XenErrno.ERANGE],
  ["feature-persistent 2", { ...FRONT_OK, "feature-persistent": "2" }, XenErrno.EINVAL],
];

for (const [name, keys, expected] of RING_TABLE) {
  test(`backend reads frontend keys: ${name}`, () => {
    const cfg = BLKBACK_DEFAULT_CONFIG;
    if (typeof expected === "number") {
      assert.throws(
        () => readFrontendRings(keys, cfg),
        (e: unknown) => e instanceof BlkifKeyError && e.errno === expected,
      );
      // In the reducer: an `error` node and Closing, no ring mapped.
      const s0 = blkbackReduce(initialBlkbackState(cfg), { kind: "probed" }).state;
      const step = blkbackReduce(s0, { kind: "frontendChanged", state: S.Initialised, keys });
      assert.deepEqual(
        step.effects.map((e) => e.kind),
        ["fatal", "switchState"],
      );
      assert.equal(step.effects[0]?.kind === "fatal" && step.effects[0].err, expected);
      assert.equal(step.state.state, S.Closing);
    } else {
      const r = readFrontendRings(keys, cfg);
      assert.deepEqual(
        r.queues.map((q) => q.refs),
        expected.refs,
      );
      assert.equal(r.multiRef, expected.multiRef);
      assert.equal(r.abi, expected.abi);
    }
  });
}

test("backend: frontend InitWait / Reconfiguring / out-of-enum state is fatal (EINVAL), as Linux", () => {
  for (const st of [S.InitWait, S.Reconfiguring, S.Reconfigured, 9, -1]) {
    const s0 = blkbackReduce(initialBlkbackState(), { kind: "probed" }).state;
    const step = blkbackReduce(s0, { kind: "frontendChanged", state: st, keys: {} });
    assert.deepEqual(step.effects[0], {
      kind: "fatal",
      err: XenErrno.EINVAL,
      msg: `saw state ${st} at frontend`,
    });
    assert.equal(step.state.state, S.Closing);
  }
});

test("backend: frontend Unknown (node gone) → unregister; Connected twice does not remap", () => {
  let s = blkbackReduce(initialBlkbackState(), { kind: "probed" }).state;
  let step = blkbackReduce(s, { kind: "frontendChanged", state: S.Initialised, keys: FRONT_OK });
  assert.equal(step.effects[0]?.kind, "connectRings");
  s = step.state;
  step = blkbackReduce(s, { kind: "frontendChanged", state: S.Connected, keys: FRONT_OK });
  assert.deepEqual(step.effects, [], "same rings while mapping: nothing new");
  step = blkbackReduce(step.state, { kind: "frontendChanged", state: S.Unknown, keys: {} });
  assert.deepEqual(
    step.effects.map((e) => e.kind),
    ["disconnectRings", "unregister"],
  );
});

test("backend: ring map failure → fatal, Closing", () => {
  let s = blkbackReduce(initialBlkbackState(), { kind: "probed" }).state;
  s = blkbackReduce(s, { kind: "frontendChanged", state: S.Initialised, keys: FRONT_OK }).state;
  const step = blkbackReduce(s, { kind: "ringsMapFailed", err: XenErrno.EFAULT, msg: "mapping ring-ref 8" });
  assert.deepEqual(
    step.effects.map((e) => e.kind),
    ["disconnectRings", "fatal", "switchState"],
  );
  assert.equal(step.state.state, S.Closing);
});

test("frontend: bad backend values are fatal (error node + Closing)", () => {
  let fs = initialBlkfrontState();
  let step = blkfrontReduce(fs, {
    kind: "backendChanged",
    state: S.InitWait,
    keys: { "max-ring-page-order": "x" },
  });
  assert.deepEqual(
    step.effects.map((e) => e.kind),
    ["fatal", "switchState"],
  );
  assert.equal(step.state.state, S.Closing);
  fs = blkfrontReduce(initialBlkfrontState(), { kind: "backendChanged", state: S.InitWait, keys: {} }).state;
  fs = blkfrontReduce(fs, { kind: "ringsGranted", queues: [{ refs: [1], evtchn: 2 }] }).state;
  step = blkfrontReduce(fs, {
    kind: "backendChanged",
    state: S.Connected,
    keys: { sectors: "10", info: "0", "sector-size": "500" },
  });
  assert.equal(step.effects[0]?.kind, "fatal");
  step = blkfrontReduce(fs, {
    kind: "backendChanged",
    state: S.Connected,
    keys: { info: "0", "sector-size": "512" },
  });
  assert.equal(step.effects[0]?.kind === "fatal" && step.effects[0].err, XenErrno.ENOENT);
  // A grant answer of the wrong shape.
  fs = blkfrontReduce(initialBlkfrontState(), { kind: "backendChanged", state: S.InitWait, keys: {} }).state;
  step = blkfrontReduce(fs, { kind: "ringsGranted", queues: [] });
  assert.deepEqual(
    step.effects.map((e) => e.kind),
    ["freeRings", "fatal", "switchState"],
  );
});

test("negotiation as Linux", () => {
  assert.equal(negotiateRingPageOrder(4, 0), 0);
  assert.equal(negotiateRingPageOrder(4, 6), 4);
  assert.equal(negotiateRingPageOrder(0, 6), 0);
  assert.equal(negotiateQueues(1, 4), 1);
  assert.equal(negotiateQueues(8, 4), 4);
  assert.equal(negotiateQueues(0, 4), 1);
  assert.equal(negotiatePersistent(true, false), false);
  assert.equal(negotiatePersistent(true, true), true);
  assert.equal(negotiateIndirectSegments(256, 32), 32);
  assert.equal(negotiateIndirectSegments(256, 1024), 256);
  assert.equal(negotiateIndirectSegments(11, 32), 0, "not above 11: no indirect");
  assert.equal(negotiateIndirectSegments(0, 32), 0);
  assert.equal(negotiateIndirectSegments(100000, 100000), 4096);
});

const anyKeys = fc.dictionary(
  fc.constantFrom(
    "ring-ref",
    "ring-ref0",
    "ring-ref1",
    "ring-page-order",
    "event-channel",
    "multi-queue-num-queues",
    "queue-0/ring-ref",
    "queue-0/event-channel",
    "queue-1/ring-ref",
    "queue-1/event-channel",
    "protocol",
    "feature-persistent",
    "sectors",
    "info",
    "sector-size",
    "max-ring-page-order",
    "multi-queue-max-queues",
    "feature-discard",
  ),
  fc.oneof(
    fc.constantFrom("0", "1", "2", "4", "x86_64-abi", "x86_32-abi", "512", ""),
    fc.string({ maxLength: 6 }),
  ),
);

test("reducers: no event sequence throws; state is always a XenbusState (property)", () => {
  const backEvent: fc.Arbitrary<BlkbackEvent> = fc.oneof(
    fc.constant({ kind: "probed" } as const),
    fc.constant({ kind: "vbdOpened", vbd: { info: DISK } } as const),
    fc.record({
      kind: fc.constant("frontendChanged" as const),
      state: fc.integer({ min: -1, max: 9 }),
      keys: anyKeys,
    }),
    fc.constant({ kind: "ringsMapped" } as const),
    fc.constant({ kind: "ringsMapFailed", err: 14, msg: "x" } as const),
    fc.record({ kind: fc.constant("onlineChanged" as const), online: fc.boolean() }),
    fc.record({ kind: fc.constant("resized" as const), sectors: fc.integer({ min: 0, max: 1e9 }) }),
  );
  const frontEvent: fc.Arbitrary<BlkfrontEvent> = fc.oneof(
    fc.record({
      kind: fc.constant("backendChanged" as const),
      state: fc.integer({ min: -1, max: 9 }),
      keys: anyKeys,
    }),
    fc.record({
      kind: fc.constant("ringsGranted" as const),
      queues: fc.array(fc.record({ refs: fc.array(fc.nat(), { maxLength: 4 }), evtchn: fc.nat() }), {
        maxLength: 3,
      }),
    }),
    fc.constant({ kind: "ringsGrantFailed", err: 12, msg: "x" } as const),
    fc.constant({ kind: "closeRequested" } as const),
    fc.constant({ kind: "reconnectRequested" } as const),
  );
  const valid = (n: number) => Number.isInteger(n) && n >= 0 && n <= 8;
  fc.assert(
    fc.property(
      fc.array(backEvent, { maxLength: 30 }),
      fc.array(frontEvent, { maxLength: 30 }),
      (bes, fes) => {
        let b = initialBlkbackState();
        for (const e of bes) {
          const step = blkbackReduce(b, e);
          b = step.state;
          assert.ok(valid(b.state));
          for (const x of step.effects) if (x.kind === "switchState") assert.ok(valid(x.state));
        }
        let f = initialBlkfrontState({ ...BLKFRONT_DEFAULT_CONFIG, maxRingPageOrder: 2 });
        for (const e of fes) {
          const step = blkfrontReduce(f, e);
          f = step.state;
          assert.ok(valid(f.state));
          // Connected only with a parsed disk.
          if (f.state === S.Connected) assert.ok(f.disk !== undefined);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test("pair: random interleavings of close/reconnect/resize/online always settle consistently (property)", () => {
  type Act = "close" | "reconnect" | "resize" | "offline";
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom<Act>("close", "reconnect", "resize", "offline"), { maxLength: 12 }),
      (acts) => {
        const p = new Pair({ maxRingPageOrder: 1 }, {});
        p.connect();
        let size = 2048;
        for (const a of acts) {
          if (p.removed) break;
          if (a === "close") p.toFront({ kind: "closeRequested" });
          if (a === "reconnect") p.toFront({ kind: "reconnectRequested" });
          if (a === "resize") p.toBack({ kind: "resized", sectors: (size += 8) });
          if (a === "offline") {
            p.back.set("online", "0");
            p.toBack({ kind: "onlineChanged", online: false });
          }
        }
        assert.deepEqual(p.errors, []);
        if (p.removed) assert.equal(p.bs.state, S.Closed);
        else if (p.fs.state === S.Connected) {
          assert.equal(p.bs.state, S.Connected);
          assert.equal(p.fs.disk?.sectors, p.bs.vbd?.info.sectors);
        } else assert.ok([S.Closed, S.Initialising].includes(p.fs.state as 1 | 6), `front ${p.fs.state}`);
      },
    ),
    { numRuns: 300 },
  );
});

// Backend steps as a table: (event, expected effects, expected XenbusState after).
test("backend connect, step by step: exact effects", () => {
  const w = (path: string, value: string) => ({ kind: "write", path, value });
  const steps: [BlkbackEvent, unknown[], number][] = [
    [
      { kind: "probed" },
      [
        w("feature-max-indirect-segments", "256"),
        w("multi-queue-max-queues", "4"),
        w("max-ring-page-order", "4"),
        { kind: "switchState", state: S.InitWait },
      ],
      S.InitWait,
    ],
    [{ kind: "frontendChanged", state: S.Initialising, keys: {} }, [], S.InitWait],
    [
      { kind: "frontendChanged", state: S.Initialised, keys: { ...FRONT_OK, "feature-persistent": "1" } },
      [
        {
          kind: "connectRings",
          abi: "x86_64",
          ringPageOrder: 0,
          multiRef: false,
          queues: [{ refs: [8], evtchn: 5 }],
          persistent: true,
        },
      ],
      S.InitWait,
    ],
    [{ kind: "ringsMapped" }, [], S.InitWait],
    [
      {
        kind: "vbdOpened",
        vbd: { info: { ...DISK, readonly: true, discard: false, flush: false }, cdrom: true },
      },
      [
        {
          kind: "transaction",
          ops: [
            w("feature-flush-cache", "0"),
            w("feature-discard", "0"),
            w("feature-barrier", "0"),
            w("feature-persistent", "1"),
            w("sectors", "2048"),
            w("info", String(VDISK_READONLY | 1)),
            w("sector-size", "512"),
            w("physical-sector-size", "4096"),
          ],
        },
        { kind: "switchState", state: S.Connected },
      ],
      S.Connected,
    ],
    [{ kind: "frontendChanged", state: S.Connected, keys: FRONT_OK }, [], S.Connected],
    [
      { kind: "frontendChanged", state: S.Closing, keys: {} },
      [{ kind: "switchState", state: S.Closing }],
      S.Closing,
    ],
    [
      { kind: "frontendChanged", state: S.Closed, keys: {} },
      [{ kind: "disconnectRings" }, { kind: "switchState", state: S.Closed }],
      S.Closed,
    ],
    [
      { kind: "frontendChanged", state: S.Initialising, keys: {} },
      [{ kind: "switchState", state: S.InitWait }],
      S.InitWait,
    ],
  ];
  let s = initialBlkbackState();
  for (const [ev, effects, after] of steps) {
    const step = blkbackReduce(s, ev);
    assert.deepEqual(step.effects, effects, JSON.stringify(ev));
    assert.equal(step.state.state, after, JSON.stringify(ev));
    s = step.state;
  }
});

test("frontend reconnect while the backend sits in InitWait talks at once", () => {
  let f = blkfrontReduce(initialBlkfrontState(), {
    kind: "backendChanged",
    state: S.InitWait,
    keys: { "multi-queue-max-queues": "2" },
  }).state;
  f = blkfrontReduce(f, { kind: "ringsGrantFailed", err: XenErrno.ENOMEM, msg: "no memory" }).state;
  assert.equal(f.state, S.Closing);
  const step = blkfrontReduce(f, { kind: "reconnectRequested" });
  assert.deepEqual(step.effects, [
    { kind: "switchState", state: S.Initialising },
    { kind: "grantRings", nrQueues: 2, nrPages: 1 },
  ]);
});

test("frontend: ring-page-order 0 writes ring-ref and removes stale ring-page-order / multi-queue-num-queues", () => {
  let f = blkfrontReduce(initialBlkfrontState({ ...BLKFRONT_DEFAULT_CONFIG, maxQueues: 1 }), {
    kind: "backendChanged",
    state: S.InitWait,
    keys: { "max-ring-page-order": "4" },
  }).state;
  const step = blkfrontReduce(f, { kind: "ringsGranted", queues: [{ refs: [77], evtchn: 9 }] });
  f = step.state;
  assert.deepEqual(step.effects[0], {
    kind: "transaction",
    ops: [
      { kind: "remove", path: "ring-page-order" },
      { kind: "remove", path: "multi-queue-num-queues" },
      { kind: "write", path: "ring-ref", value: "77" },
      { kind: "write", path: "event-channel", value: "9" },
      { kind: "write", path: "protocol", value: "x86_64-abi" },
      { kind: "write", path: "feature-persistent", value: "1" },
    ],
  });
  assert.equal(f.state, S.Initialised);
});
