import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { loadEchoProto } from "@xensim/proto";
import { waitFor } from "@xensim/testkit";
import { CallError, GrpcStatus } from "./errors.js";
import type { BusMsg } from "./events.js";
import { createInProcessBus } from "./inprocess-bus.js";
import { createInProcessCallClient } from "./inprocess-calls.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

function nextMessage(w: Worker, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const f = (m: Record<string, unknown>): void => {
      if (m.type === type) {
        w.off("message", f);
        resolve(m);
      }
    };
    w.on("message", f);
  });
}

test("in-process bus and calls across two worker threads", async () => {
  const busName = `xthread-${process.pid}`;
  const callName = `echo-xthread-${process.pid}`;
  const main = createInProcessBus({ name: busName });
  const workers = [1, 2].map(
    (id) =>
      new Worker(new URL("./testing/bus-worker.js", import.meta.url), {
        workerData: { busName, callName, id },
      }),
  );
  try {
    await Promise.all(workers.map((w) => nextMessage(w, "ready")));
    await main.flush();

    // queue group spread over the two threads: each job exactly once
    const seen = new Map<number, number[]>([
      [1, []],
      [2, []],
    ]);
    main.subscribe("seen.*", {
      callback: (m: BusMsg) => seen.get(Number(m.subject.split(".")[1]))?.push(Number(dec.decode(m.data))),
    });
    await main.flush();
    for (let i = 0; i < 100; i++) main.publish("job", enc.encode(String(i)));
    await waitFor(() => (seen.get(1)?.length ?? 0) + (seen.get(2)?.length ?? 0) >= 100, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 30));
    const all = [...(seen.get(1) ?? []), ...(seen.get(2) ?? [])].sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.ok((seen.get(1)?.length ?? 0) > 0 && (seen.get(2)?.length ?? 0) > 0);

    // fan-out and per-publisher FIFO in both threads
    const orders = new Map<string, number[]>();
    main.subscribe("order.*", {
      callback: (m) => orders.set(m.subject, JSON.parse(dec.decode(m.data)) as number[]),
    });
    await main.flush();
    for (let i = 0; i < 500; i++) main.publish(`bcast.${i % 7}`, enc.encode(String(i)));
    main.publish("bcast.end", new Uint8Array(0));
    await waitFor(() => orders.size === 2, { timeoutMs: 5000 });
    for (const o of orders.values()) {
      assert.deepEqual(
        o,
        Array.from({ length: 500 }, (_, i) => i),
      );
    }

    // request/reply into each thread
    for (const id of [1, 2]) {
      const r = await main.request(`rpc.${id}`, enc.encode("q"), { timeoutMs: 2000 });
      assert.equal(dec.decode(r.data), `w${id}:q`);
    }

    // calls: main thread → worker 1, worker 2 → worker 1
    const def = loadEchoProto().xensim.testing.v1.Echo.service;
    const client = createInProcessCallClient(def, callName);
    const res = await client.call<object, { servedBy: string; seq: string }>(
      "Echo",
      { seq: "42" },
      { deadlineMs: 3000 },
    );
    assert.deepEqual([res.servedBy, res.seq], ["worker1", "42"]);
    const called = nextMessage(workers[1] as Worker, "called");
    workers[1]?.postMessage({ type: "call" });
    assert.deepEqual(((await called).result as { servedBy: string }).servedBy, "worker1");

    // the server goes away: pending and later calls fail UNAVAILABLE
    const stopped = nextMessage(workers[0] as Worker, "server-stopped");
    workers[0]?.postMessage({ type: "stop-server" });
    await stopped;
    await waitFor(
      () =>
        client.call("Echo", {}, { deadlineMs: 3000 }).then(
          () => false,
          (e: unknown) => CallError.is(e, GrpcStatus.UNAVAILABLE),
        ),
      { timeoutMs: 10_000 },
    );
    client.close();
  } finally {
    for (const w of workers) w.postMessage({ type: "stop" });
    await Promise.all(workers.map((w) => once(w, "exit")));
    await main.close();
  }
});

test("a peer that vanished without close() is dropped at the next flush", async () => {
  const busName = `vanish-${process.pid}`;
  const main = createInProcessBus({ name: busName });
  const w = new Worker(new URL("./testing/bus-worker.js", import.meta.url), {
    workerData: { busName, callName: `none-${process.pid}`, id: 9 },
  });
  await nextMessage(w, "ready");
  await main.flush();
  const r = await main.request("rpc.9", enc.encode("x"), { timeoutMs: 2000 });
  assert.equal(dec.decode(r.data), "w9:x");
  await w.terminate();
  await main.flush(); // waits out the ping timeout, then forgets the peer
  await assert.rejects(main.request("rpc.9", enc.encode("x"), { timeoutMs: 500 }), /no responders/);
  await main.close();
});
