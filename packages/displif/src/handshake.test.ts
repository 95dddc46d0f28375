// Handshake sequences of both reducers (fact sheet §3, §8), and the two driven against each other
// through a shared key space until both are Connected, then a backend fault and the way back.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { XenbusState, XenErrno } from "@xensim/abi";
import {
  type DisplbackEffect,
  displbackReduce,
  type DisplbackState,
  type DisplfrontEffect,
  displfrontReduce,
  type DisplfrontState,
  initialDisplbackState,
  initialDisplfrontState,
} from "./handshake.js";
import type { ConnectorChannels } from "./keys.js";

const S = XenbusState;
const toolstackKeys = {
  "be-alloc": "0",
  "0/resolution": "1920x1080",
  "0/unique-id": "DP-1",
  "1/resolution": "640x480",
  "1/unique-id": "DP-2",
};
const channels = (n: number): ConnectorChannels[] =>
  Array.from({ length: n }, (_, i) => ({
    reqRingRef: 10 + i,
    reqEventChannel: 20 + i,
    evtRingRef: 30 + i,
    evtEventChannel: 40 + i,
  }));
const kinds = (e: readonly { kind: string }[]) => e.map((x) => x.kind);

describe("frontend", () => {
  test("InitWait → allocChannels; granted → one transaction, Initialised; Connected → Connected", () => {
    let s: DisplfrontState = initialDisplfrontState();
    let r = displfrontReduce(s, {
      kind: "backendChanged",
      state: S.InitWait,
      backendKeys: { versions: "1,2" },
      frontendKeys: toolstackKeys,
    });
    assert.deepEqual(r.effects, [{ kind: "allocChannels", nrConnectors: 2 }]);
    assert.equal(r.state.version, 2);
    s = r.state;
    r = displfrontReduce(s, { kind: "channelsAllocated", channels: channels(2) });
    assert.deepEqual(kinds(r.effects), ["transaction", "switchState"]);
    const tx = r.effects[0] as Extract<DisplfrontEffect, { kind: "transaction" }>;
    assert.deepEqual(tx.ops.slice(0, 5), [
      { kind: "write", path: "version", value: "2" },
      { kind: "write", path: "0/req-ring-ref", value: "10" },
      { kind: "write", path: "0/req-event-channel", value: "20" },
      { kind: "write", path: "0/evt-ring-ref", value: "30" },
      { kind: "write", path: "0/evt-event-channel", value: "40" },
    ]);
    assert.equal(r.state.state, S.Initialised);
    s = r.state;
    r = displfrontReduce(s, {
      kind: "backendChanged",
      state: S.Connected,
      backendKeys: { versions: "1,2" },
      frontendKeys: toolstackKeys,
    });
    assert.deepEqual(kinds(r.effects), ["connected", "switchState"]);
    const c = r.effects[0] as Extract<DisplfrontEffect, { kind: "connected" }>;
    assert.deepEqual(
      c.connection.connectors.map((x) => [x.width, x.height, x.uniqueId]),
      [
        [1920, 1080, "DP-1"],
        [640, 480, "DP-2"],
      ],
    );
    assert.equal(r.state.state, S.Connected);
  });
  test("versions: the highest common one; none → error node and Closing", () => {
    let r = displfrontReduce(initialDisplfrontState([1]), {
      kind: "backendChanged",
      state: S.InitWait,
      backendKeys: { versions: "1,2" },
      frontendKeys: toolstackKeys,
    });
    assert.equal(r.state.version, 1);
    r = displfrontReduce(initialDisplfrontState([2]), {
      kind: "backendChanged",
      state: S.InitWait,
      backendKeys: { versions: "1" },
      frontendKeys: toolstackKeys,
    });
    assert.deepEqual(kinds(r.effects), ["fatal", "switchState"]);
    assert.equal(r.state.state, S.Closing);
  });
  test("bad toolstack values are fatal: a resolution that is not WxH, no connectors, be-alloc 2", () => {
    for (const frontendKeys of [{ "0/resolution": "1920*1080" }, {}, { ...toolstackKeys, "be-alloc": "2" }]) {
      const r = displfrontReduce(initialDisplfrontState(), {
        kind: "backendChanged",
        state: S.InitWait,
        backendKeys: { versions: "2" },
        frontendKeys,
      });
      const f = r.effects.find((e) => e.kind === "fatal") as { err: number } | undefined;
      assert.ok(f, JSON.stringify(frontendKeys));
      assert.ok(f.err === XenErrno.EINVAL || f.err === XenErrno.ENOENT);
    }
  });
  test("backend fault while connected: disconnected, Reconfiguring; released → Initialising and talk again", () => {
    let s = connectedFront();
    let r = displfrontReduce(s, {
      kind: "backendChanged",
      state: S.Closed,
      backendKeys: {},
      frontendKeys: toolstackKeys,
    });
    assert.deepEqual(kinds(r.effects), ["disconnected", "switchState"]);
    assert.equal(r.state.state, S.Reconfiguring);
    s = r.state;
    // The restarted backend re-probes while we are still releasing.
    r = displfrontReduce(s, {
      kind: "backendChanged",
      state: S.InitWait,
      backendKeys: { versions: "2" },
      frontendKeys: toolstackKeys,
    });
    assert.deepEqual(r.effects, []);
    s = r.state;
    r = displfrontReduce(s, { kind: "deviceReleased" });
    assert.deepEqual(kinds(r.effects), ["freeChannels", "switchState", "allocChannels"]);
    assert.equal(r.state.state, S.Initialising);
  });
  test("a backend re-probing into InitWait while we are connected is a fault too", () => {
    const r = displfrontReduce(connectedFront(), {
      kind: "backendChanged",
      state: S.InitWait,
      backendKeys: { versions: "2" },
      frontendKeys: toolstackKeys,
    });
    assert.equal(r.state.state, S.Reconfiguring);
  });
  test("close: Closing, then the backend's Closed frees the channels", () => {
    let r = displfrontReduce(connectedFront(), { kind: "closeRequested" });
    assert.deepEqual(kinds(r.effects), ["disconnected", "switchState"]);
    // The backend follows to Closing: we go Closed (no channels freed yet: it still maps them).
    r = displfrontReduce(r.state, {
      kind: "backendChanged",
      state: S.Closing,
      backendKeys: {},
      frontendKeys: {},
    });
    assert.deepEqual(r.effects, [{ kind: "switchState", state: S.Closed }]);
    r = displfrontReduce(r.state, {
      kind: "backendChanged",
      state: S.Closed,
      backendKeys: {},
      frontendKeys: {},
    });
    assert.deepEqual(kinds(r.effects), ["freeChannels"]);
    assert.equal(r.state.state, S.Closed);
  });
});

function connectedFront(): DisplfrontState {
  let s = initialDisplfrontState();
  s = displfrontReduce(s, {
    kind: "backendChanged",
    state: S.InitWait,
    backendKeys: { versions: "2" },
    frontendKeys: toolstackKeys,
  }).state;
  s = displfrontReduce(s, { kind: "channelsAllocated", channels: channels(2) }).state;
  s = displfrontReduce(s, {
    kind: "backendChanged",
    state: S.Connected,
    backendKeys: { versions: "2" },
    frontendKeys: toolstackKeys,
  }).state;
  assert.equal(s.state, S.Connected);
  return s;
}

describe("backend", () => {
  const frontKeys = {
    ...toolstackKeys,
    version: "2",
    "0/req-ring-ref": "10",
    "0/req-event-channel": "20",
    "0/evt-ring-ref": "30",
    "0/evt-event-channel": "40",
    "1/req-ring-ref": "11",
    "1/req-event-channel": "21",
    "1/evt-ring-ref": "31",
    "1/evt-event-channel": "41",
  };
  test("probe → versions, InitWait; Initialised → mapChannels; mapped → Connected", () => {
    let r = displbackReduce(initialDisplbackState(), { kind: "probed" });
    assert.deepEqual(r.effects, [
      { kind: "write", path: "versions", value: "1,2" },
      { kind: "switchState", state: S.InitWait },
    ]);
    r = displbackReduce(r.state, { kind: "frontendChanged", state: S.Initialised, frontendKeys: frontKeys });
    const m = r.effects[0] as Extract<DisplbackEffect, { kind: "mapChannels" }>;
    assert.equal(m.kind, "mapChannels");
    assert.deepEqual(m.connection.channels, channels(2));
    r = displbackReduce(r.state, { kind: "channelsMapped" });
    assert.deepEqual(kinds(r.effects), ["connected", "switchState"]);
    assert.equal(r.state.state, S.Connected);
  });
  test("a version not offered, missing ring refs, a failed map: error node, Closing", () => {
    const start = displbackReduce(initialDisplbackState(), { kind: "probed" }).state;
    for (const keys of [
      { ...frontKeys, version: "3" },
      { ...frontKeys, "1/evt-ring-ref": undefined },
    ]) {
      const r = displbackReduce(start, { kind: "frontendChanged", state: S.Initialised, frontendKeys: keys });
      assert.ok(kinds(r.effects).includes("fatal"));
      assert.equal(r.state.state, S.Closing);
    }
    let r = displbackReduce(start, {
      kind: "frontendChanged",
      state: S.Initialised,
      frontendKeys: frontKeys,
    });
    r = displbackReduce(r.state, { kind: "channelsMapFailed", err: XenErrno.EINVAL, msg: "bad gref" });
    assert.deepEqual(kinds(r.effects), ["unmapChannels", "fatal", "switchState"]);
  });
  test("frontend Closing → Closing; Closed → unmap, Closed; Initialising → InitWait (reconnect)", () => {
    let s: DisplbackState = displbackReduce(initialDisplbackState(), { kind: "probed" }).state;
    s = displbackReduce(s, { kind: "frontendChanged", state: S.Initialised, frontendKeys: frontKeys }).state;
    s = displbackReduce(s, { kind: "channelsMapped" }).state;
    let r = displbackReduce(s, { kind: "frontendChanged", state: S.Closing, frontendKeys: frontKeys });
    assert.deepEqual(kinds(r.effects), ["unmapChannels", "switchState"]);
    r = displbackReduce(r.state, { kind: "frontendChanged", state: S.Closed, frontendKeys: frontKeys });
    assert.deepEqual(r.effects, [{ kind: "switchState", state: S.Closed }]);
    r = displbackReduce(r.state, { kind: "frontendChanged", state: S.Initialising, frontendKeys: frontKeys });
    assert.deepEqual(kinds(r.effects), ["write", "switchState"]);
    assert.equal(r.state.state, S.InitWait);
  });
});

describe("both ends over one key space", () => {
  test("connect, backend fault, reconnect", () => {
    const store = new Map<string, string>(Object.entries(toolstackKeys).map(([k, v]) => [`f/${k}`, v]));
    let front = initialDisplfrontState();
    let back = initialDisplbackState();
    const dir = (p: string) =>
      Object.fromEntries([...store].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]));
    const queue: ["f" | "b", number][] = [];
    let frontConnected = 0;
    let released = false;
    const apply = (side: "f" | "b", effects: readonly (DisplfrontEffect | DisplbackEffect)[]) => {
      for (const e of effects) {
        if (e.kind === "write") store.set(`${side}/${e.path}`, e.value);
        else if (e.kind === "transaction") {
          for (const op of e.ops) if (op.kind === "write") store.set(`${side}/${op.path}`, op.value);
        } else if (e.kind === "switchState") {
          store.set(`${side}/state`, String(e.state));
          queue.push([side === "f" ? "b" : "f", e.state]);
        } else if (e.kind === "allocChannels") {
          const r = displfrontReduce(front, {
            kind: "channelsAllocated",
            channels: channels(e.nrConnectors),
          });
          front = r.state;
          apply("f", r.effects);
        } else if (e.kind === "mapChannels") {
          const r = displbackReduce(back, { kind: "channelsMapped" });
          back = r.state;
          apply("b", r.effects);
        } else if (e.kind === "connected" && side === "f") frontConnected++;
        else if (e.kind === "disconnected") released = true;
      }
    };
    const drain = () => {
      for (let guard = 0; queue.length > 0 && guard < 100; guard++) {
        const [to, state] = queue.shift()!;
        if (to === "f") {
          const r = displfrontReduce(front, {
            kind: "backendChanged",
            state,
            backendKeys: dir("b/"),
            frontendKeys: dir("f/"),
          });
          front = r.state;
          apply("f", r.effects);
        } else {
          const r = displbackReduce(back, { kind: "frontendChanged", state, frontendKeys: dir("f/") });
          back = r.state;
          apply("b", r.effects);
        }
      }
    };
    const r0 = displbackReduce(back, { kind: "probed" });
    back = r0.state;
    apply("b", r0.effects);
    drain();
    assert.equal(front.state, S.Connected);
    assert.equal(back.state, S.Connected);
    assert.equal(frontConnected, 1);
    // The backend dies; a new one probes the device and goes to InitWait.
    back = initialDisplbackState();
    const r1 = displbackReduce(back, { kind: "probed" });
    back = r1.state;
    apply("b", r1.effects);
    drain();
    assert.equal(front.state, S.Reconfiguring);
    assert.ok(released);
    const r2 = displfrontReduce(front, { kind: "deviceReleased" });
    front = r2.state;
    apply("f", r2.effects);
    drain();
    assert.equal(front.state, S.Connected);
    assert.equal(back.state, S.Connected);
    assert.equal(frontConnected, 2);
  });
});
