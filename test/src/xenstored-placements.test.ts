// The same xenstore scenario in both placements: embedded (xenstored in a worker thread of a host,
// in-process bus and calls) and distributed (xenstored in its own process, gRPC for calls, real
// NATS for watch events). Distributed also survives a kill -9 of xenstored: the session is reopened
// and the watch re-registered without the application noticing.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CallClient,
  connectNatsBus,
  createGrpcCallClient,
  createInProcessBus,
  createInProcessCallClient,
  type EventBus,
} from "@xensim/bus";
import { loadXenstoreProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { freePort, type NatsServer, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { connectXenstore, type WatchEvent, type XenstoreClient } from "@xensim/xenstore-client";
import { REPO_ROOT, startXenstored, type XensimProcess } from "./harness.js";

const def = () => loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
const XENSTORED_ENTRY = join(REPO_ROOT, "services", "xenstored", "dist", "main.js");

/** What every placement must do: CRUD, permissions, a transaction, watch events through the bus. */
async function scenario(client: XenstoreClient, events: WatchEvent[]): Promise<void> {
  await client.write("/local/domain/7/name", "guest-7");
  assert.equal(await client.read("/local/domain/7/name"), "guest-7");
  await client.setPerms("/local/domain/7", ["n7", "r0"]);
  assert.deepEqual(await client.getPerms("/local/domain/7"), ["n7", "r0"]);
  assert.deepEqual((await client.ls("/local/domain/7")).sort(), ["name"]);
  await client.transaction(async (tx) => {
    await tx.write("/scenario/a", "1");
    await tx.write("/scenario/b", "2");
  });
  await waitFor(() => events.some((e) => e.path === "/scenario/b"), {
    timeoutMs: 5000,
    message: "watch event",
  });
  await client.rm("/scenario/a");
  await waitFor(() => events.some((e) => e.path === "/scenario/a" && events.indexOf(e) > 1), {
    timeoutMs: 5000,
    message: "watch event for rm",
  });
  await assert.rejects(client.read("/scenario/a"), { code: "ENOENT" });
  await assert.rejects(client.write("/bad//path", "x"), { code: "EINVAL" });
}

async function watchInto(client: XenstoreClient, path: string): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const w = await client.watch(path);
  void (async () => {
    for await (const e of w) events.push(e);
  })();
  await waitFor(() => events.length > 0, { timeoutMs: 5000, message: "initial watch event" });
  return events;
}

describe("xenstore scenario, embedded placement", () => {
  it("runs through the in-process call path and bus", async () => {
    const host = await startHost({
      services: [{ name: "xenstored", entry: XENSTORED_ENTRY, config: {} }],
      logLevel: "warn",
    });
    try {
      await host.ready;
      const calls = createInProcessCallClient(def(), "xenstored");
      const bus = createInProcessBus({ name: host.busName });
      const client = await connectXenstore({ calls, bus, clientName: "embedded-test" });
      const events = await watchInto(client, "/scenario");
      await scenario(client, events);
      await client.close();
      calls.close();
      await bus.close();
    } finally {
      await host.stop();
    }
  });
});

describe("xenstore scenario, distributed placement (gRPC + NATS)", () => {
  let nats: NatsServer;
  const dir = tempDir("xensim-dist-");
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats?.stop();
    dir.cleanup();
  });

  it("runs over gRPC with watch events on NATS, and survives kill -9 of xenstored", async () => {
    const port = await freePort();
    const socket = join(dir.path, "socket");
    const stateDir = join(dir.path, "state");
    const opts = { socket, stateDir, grpc: `127.0.0.1:${port}`, nats: nats.url };
    let xenstored: XensimProcess = await startXenstored(opts);
    const calls: CallClient = createGrpcCallClient(def(), `127.0.0.1:${port}`);
    const bus: EventBus = await connectNatsBus({ servers: nats.url, name: "dist-test" });
    try {
      // The gRPC server may come up a moment after the socket.
      const client = await waitFor(
        () => connectXenstore({ calls, bus, clientName: "dist-test", retryForMs: 20_000 }),
        {
          timeoutMs: 20_000,
          message: "gRPC session",
        },
      );
      const events = await watchInto(client, "/scenario");
      await scenario(client, events);

      await xenstored.kill9();
      xenstored = await startXenstored(opts);
      // Old data is there, the session comes back on its own, and so does the watch.
      assert.equal(await client.read("/local/domain/7/name"), "guest-7");
      const seen = events.length;
      await client.write("/scenario/after-restart", "x");
      await waitFor(() => events.slice(seen).some((e) => e.path === "/scenario/after-restart"), {
        timeoutMs: 10_000,
        message: "watch event after restart",
      });
      await client.close();
    } finally {
      calls.close();
      await bus.close();
      await xenstored.stop();
    }
  });
});
