// NATS-only behaviour of the adapter (the shared semantics are in the contract suite, events.test.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort, startNatsServer } from "@xensim/testkit";
import { BusError, BusErrorCode } from "./errors.js";
import { connectNatsBus } from "./nats-bus.js";
import { gather, sleep, until } from "./testing/events-contract.js";

const enc = new TextEncoder();

test("nats: connecting to nothing fails with CONNECTION", async () => {
  const port = await freePort();
  await assert.rejects(
    connectNatsBus({ servers: `nats://127.0.0.1:${port}`, timeoutMs: 1000 }),
    (e: unknown) => BusError.is(e, BusErrorCode.Connection),
  );
});

test("nats: headers NATS cannot carry are refused at publish with PROTOCOL", async () => {
  const nats = await startNatsServer();
  const bus = await connectNatsBus({ servers: nats.url });
  try {
    assert.throws(
      () => bus.publish("h.x", new Uint8Array(0), { headers: { "bad key": "v" } }),
      (e: unknown) => BusError.is(e, BusErrorCode.Protocol),
    );
    assert.throws(
      () => bus.publish("h.x", new Uint8Array(0), { headers: { ok: "a\r\nb" } }),
      (e: unknown) => BusError.is(e, BusErrorCode.Protocol),
    );
    await bus.flush();
  } finally {
    await bus.close();
    await nats.stop();
  }
});

test("nats: the bus survives a server restart (reconnect, subscriptions restored)", async () => {
  const first = await startNatsServer();
  const port = first.port;
  const errors: unknown[] = [];
  const opts = { servers: first.url, reconnectTimeWaitMs: 100, onError: (e: unknown) => errors.push(e) };
  const a = await connectNatsBus({ ...opts, name: "a" });
  const b = await connectNatsBus({ ...opts, name: "b" });
  let second: Awaited<ReturnType<typeof startNatsServer>> | undefined;
  try {
    const got = gather(b, "r.>");
    b.subscribe("svc.echo", { callback: (m) => m.reply && b.publish(m.reply, m.data) });
    await b.flush();
    a.publish("r.1", enc.encode("before"));
    await until(() => got.msgs.length === 1);

    await first.stop();
    await sleep(200);
    second = await startNatsServer({ port });

    // once both have reconnected, b's subscriptions are back and a's publishes flow again
    await until(
      () => {
        a.publish("r.2", enc.encode("after"));
        return got.msgs.some((m) => m.subject === "r.2");
      },
      10_000,
      "delivery after the restart",
    );
    await a.flush();
    const r = await a.request("svc.echo", enc.encode("ping"), { timeoutMs: 2000 });
    assert.equal(new TextDecoder().decode(r.data), "ping");
    assert.equal(a.closed, false);
    assert.equal(b.closed, false);
    assert.deepEqual(errors, []);
  } finally {
    await a.close();
    await b.close();
    await second?.stop();
    await first.stop();
  }
});
