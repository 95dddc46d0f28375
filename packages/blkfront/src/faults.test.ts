// A misbehaving backend (rsp_prod overflow, unknown id, duplicate response, wrong operation) is
// caught: the error node is written, the device closes, nothing completes twice, later I/O fails.
// A backend that goes away mid-I/O and comes back (cleanly or by crashing): every request without a
// response is issued again on the new rings, every write is acknowledged exactly once and reads back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XenbusState, XenErrno } from "@xensim/abi";
import type { Misbehaviour } from "./testing/backend.js";
import { DEVID, GUEST, pattern, Rig, waitUntil } from "./testing/rig.js";

const ERROR_NODE = `/local/domain/${GUEST}/error/device/vbd/${DEVID}/error`;

describe("misbehaving backend", () => {
  const cases: [Misbehaviour, RegExp][] = [
    ["overflow", /rsp_prod overflows/],
    ["unknownId", /unknown id/],
    ["duplicate", /not in flight \(duplicate\)/],
    ["wrongOp", /has operation/],
  ];
  for (const [bad, msg] of cases)
    it(`${bad}: error node, device closed, in-flight I/O failed once, later I/O refused`, async () => {
      const r = await Rig.start({ sectors: 1024, front: { maxQueues: 1 } });
      await r.front.whenConnected();
      assert.equal(await r.write(0, pattern(1, 4096)), 0);
      const errors: string[] = [];
      r.front.subscribe((n) => {
        if (n.kind === "error") errors.push(n.msg);
      });
      // Several requests in flight, then the bad answer to the first.
      r.backend.paused = true;
      const calls = new Map<number, number[]>();
      const all: Promise<void>[] = [];
      for (let i = 0; i < 4; i++) {
        calls.set(i, []);
        all.push(
          new Promise((res) =>
            r.front.submit(
              { op: "write", sector: 8 + i * 8, nrSectors: 8, segs: [pattern(i, 4096)] },
              (st) => {
                calls.get(i)!.push(st);
                res();
              },
            ),
          ),
        );
      }
      await waitUntil(() => r.front.stats.inFlight === 4, "four in flight");
      r.backend.misbehave = bad;
      r.backend.hold = false;
      r.backend.resume();
      await Promise.all(all);
      await waitUntil(() => r.front.handshake.state === XenbusState.Closed, "frontend closed");
      for (const [, sts] of calls) assert.equal(sts.length, 1, "each I/O completes exactly once");
      const failed = [...calls.values()].filter((s) => s[0] === -XenErrno.EIO).length;
      if (bad === "duplicate") assert.equal(failed, 0, "every write had its one valid answer first");
      else assert.ok(failed >= 1, "the I/O without a valid answer failed");
      assert.equal(r.front.stats.protocolErrors, 1);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, msg);
      const node = await r.xs.tryRead(ERROR_NODE);
      assert.ok(node?.startsWith(`${XenErrno.EIO} misbehaving backend`), node);
      assert.match(node ?? "", msg);
      assert.equal(await r.write(0, pattern(2, 512)), -XenErrno.EIO);
      // Nothing more was sent to the bad backend.
      const requests = r.front.stats.requests;
      await new Promise((res) => setTimeout(res, 20));
      assert.equal(r.front.stats.requests, requests);
      await r.front.close();
      await r.assertNoLeaks();
    });
});

/** Submits writes and counts completions per write. */
function tracker(r: Rig) {
  const done = new Map<number, number[]>();
  const data = new Map<number, { sector: number; bytes: Uint8Array }>();
  const pending: Promise<void>[] = [];
  let n = 0;
  return {
    done,
    data,
    write(sector: number, sectors: number): void {
      const k = n++;
      const bytes = pattern(1000 + k, sectors * 512);
      data.set(k, { sector, bytes });
      done.set(k, []);
      pending.push(
        new Promise((res) =>
          r.front.submit({ op: "write", sector, nrSectors: sectors, segs: [bytes] }, (st) => {
            done.get(k)!.push(st);
            res();
          }),
        ),
      );
    },
    all: () => Promise.all(pending),
  };
}

describe("backend restart mid-I/O", () => {
  for (const mode of ["clean", "crash"] as const)
    for (const persistent of [true, false])
      for (const [order, queues] of [
        [0, 1],
        [2, 4],
      ] as const)
        it(`${mode} restart, persistent ${persistent}, ${2 ** order} page(s) × ${queues} queue(s): every write acknowledged once and read back`, async () => {
          const r = await Rig.start({
            sectors: 8192,
            front: { persistent, maxRingPageOrder: order, maxQueues: queues, maxIndirectSegments: 32 },
          });
          await r.front.whenConnected();
          const t = tracker(r);
          // Some writes acknowledged before the restart.
          for (let i = 0; i < 10; i++) t.write(i * 16, 16);
          await t.all();
          // Then the backend does the I/O but answers nothing, and goes away.
          r.backend.hold = true;
          for (let i = 10; i < 60; i++) t.write(i * 64, 1 + (i % 7) * 9);
          await waitUntil(
            () => r.front.stats.inFlight > 0 && r.backend.held.length === r.front.stats.inFlight,
            "requests held",
          );
          const inFlight = r.front.stats.inFlight;
          assert.ok(inFlight > 0);
          const disconnected = new Promise<void>((res) =>
            r.front.subscribe((n) => n.kind === "disconnected" && res()),
          );
          await r.backend.stop(mode);
          await disconnected;
          // Submits while disconnected are queued too.
          for (let i = 60; i < 70; i++) t.write(i * 64, 5);
          await r.startBackend();
          await t.all();
          for (const [k, sts] of t.done) assert.deepEqual(sts, [0], `write ${k} acknowledged exactly once`);
          assert.equal(r.front.stats.connects, 2);
          assert.ok(r.front.stats.reissued >= inFlight - r.backend.held.length);
          assert.ok(r.front.stats.reissued > 0);
          assert.equal(r.front.stats.grantsLeaked, 0, "the backend unmapped: every grant ended");
          for (const [, w] of t.data) {
            const got = await r.read(w.sector, w.bytes.length / 512);
            assert.equal(got.status, 0);
            assert.ok(Buffer.from(got.data).equals(Buffer.from(w.bytes)));
          }
          assert.equal(r.front.stats.inFlight, 0);
          await r.front.close();
          await r.assertNoLeaks();
        });

  it("writes that were performed but not answered are issued again; none is answered twice", async () => {
    const r = await Rig.start({ sectors: 2048, front: { maxQueues: 1 } });
    await r.front.whenConnected();
    const t = tracker(r);
    r.backend.hold = true;
    for (let i = 0; i < 8; i++) t.write(i * 8, 8);
    await waitUntil(() => r.backend.held.length === 8, "eight held");
    await r.backend.stop("crash");
    await r.startBackend();
    await t.all();
    assert.equal(r.front.stats.reissued, 8);
    for (const [, sts] of t.done) assert.deepEqual(sts, [0]);
    assert.equal(r.front.stats.completed, r.front.stats.submitted);
    await r.front.close();
  });
});
