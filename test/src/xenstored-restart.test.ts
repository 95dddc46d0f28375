// kill -9 of xenstored during a stream of writes and transactions: after a restart the tree is
// intact, every acknowledged write is there, and the client library reconnected and re-registered
// its watches by itself.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { seededRandom, sleep, tempDir, testSeed, waitFor } from "@xensim/testkit";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type WatchEvent, XenstoreClient, XsRingTransport } from "@xensim/xenstore-client";
import { serviceEntryPath, startXenstored, type XensimProcess } from "./harness.js";

describe("xenstored kill -9 and restart", () => {
  const dir = tempDir("xensim-restart-");
  after(() => dir.cleanup());

  it("keeps every acknowledged write and transaction through two kill -9s", async (t) => {
    const seed = testSeed();
    const rnd = seededRandom(seed);
    const socket = join(dir.path, "socket");
    const stateDir = join(dir.path, "state");
    let xenstored: XensimProcess = await startXenstored({ socket, stateDir });
    t.after(() => xenstored.kill9());
    const client = await connectXenstore({ socket });
    const acked = new Map<string, string>();
    const ackedTx: string[] = [];
    const events: WatchEvent[] = [];
    const watch = await client.watch("/data", "data-watch");
    void (async () => {
      for await (const ev of watch) events.push(ev);
    })();

    let stop = false;
    const writer = (async () => {
      let i = 0;
      while (!stop) {
        i++;
        if (i % 5 === 0) {
          const id = `tx${i}`;
          await client.transaction(async (tx) => {
            const n = Number((await tx.tryRead("/counter")) ?? "0");
            await tx.write("/counter", String(n + 1));
            await tx.write(`/txlog/${n + 1}`, id);
          });
          ackedTx.push(id);
        } else {
          const key = `/data/k${i}`;
          const value = `v${i}-${rnd.int(1_000_000)}`;
          await client.write(key, value);
          acked.set(key, value);
        }
      }
    })();

    for (let round = 0; round < 2; round++) {
      await sleep(300 + rnd.int(300));
      const before = acked.size + ackedTx.length;
      await xenstored.kill9();
      // While it is away the client says so (what a service's health report shows).
      await waitFor(() => client.health().status === "degraded", {
        timeoutMs: 10_000,
        message: "client sees xenstored lost",
      });
      assert.equal(client.health().xenstore, "xenstored lost");
      xenstored = await startXenstored({ socket, stateDir });
      // The writer resumes on its own once the client has reconnected.
      await waitFor(() => acked.size + ackedTx.length > before + 20, {
        timeoutMs: 20_000,
        message: `progress after restart ${round + 1} (seed ${seed})`,
      }).catch((err: Error) => {
        throw new Error(`${err.message}; xenstored said:\n${xenstored.output()}`);
      });
    }
    stop = true;
    await writer;

    assert.ok(acked.size > 50, `enough writes happened (${acked.size})`);
    for (const [k, v] of acked)
      assert.equal(await client.read(k), v, `acknowledged write ${k} (seed ${seed})`);
    // Each committed transaction appended one log entry and bumped the counter by one; a commit whose
    // reply was lost to the kill may have been retried, but never half-applied.
    const counter = Number(await client.read("/counter"));
    const log = await client.ls("/txlog");
    assert.equal(log.length, counter);
    const logged = new Set<string>();
    for (const n of log) logged.add(await client.read(`/txlog/${n}`));
    for (const id of ackedTx)
      assert.ok(logged.has(id), `acknowledged transaction ${id} committed (seed ${seed})`);

    // The watch was re-registered after each restart.
    const seen = events.length;
    await client.write("/data/after-restarts", "x");
    await waitFor(() => events.slice(seen).some((e) => e.path === "/data/after-restarts"), {
      timeoutMs: 5000,
      message: "watch event after restarts",
    });
    await watch.close();
    await client.close();
    await xenstored.stop();
  });

  it("as a worker: call-plane sessions and guest rings get their watches back, transactions in flight EAGAIN and retried", async (t) => {
    const stateDir = join(dir.path, "worker-state");
    const host = await startHost({
      services: [
        { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
        { name: "xenstored", entry: serviceEntryPath("xenstored"), config: { stateDir } },
      ],
      logLevel: "warn",
    });
    t.after(() => host.stop());
    await host.ready;
    const bus = createInProcessBus({ name: host.busName });
    const hvDef = loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
    const xsCalls = createInProcessCallClient(
      loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
      "xenstored",
    );
    const hv0 = createInProcessCallClient(hvDef, "hypervisor");
    const hvU = createInProcessCallClient(hvDef, "hypervisor");
    t.after(() => {
      xsCalls.close();
      hv0.close();
      hvU.close();
      bus.close();
    });
    // dom0's client: a call-plane session (leases short, so a lost xenstored is noticed quickly).
    const dom0 = await connectXenstore({ calls: xsCalls, bus, clientName: "restart-test", leaseMs: 1500 });
    t.after(() => dom0.close());
    const xc0 = new XenCtrl({ domid: 0, calls: hv0, store: host.sharedMemory, bus });
    const { domid } = await xc0.domainCreate({ memoryMib: 4 });
    const home = `/local/domain/${domid}`;
    await dom0.mkdir(home);
    await dom0.setPerms(home, [`n${domid}`, "r0"]);
    const xcU = new XenCtrl({ domid, calls: hvU, store: host.sharedMemory, bus });
    const port = (await xcU.evtchnAllocUnbound(domid, 0)).port;
    const page = await xcU.mapForeignPages(domid, [0x3f0]);
    assert.notEqual(typeof page, "number");
    if (typeof page === "number") return;
    await dom0.introduceDomain(domid, 0x3f0, port);
    const guest = new XenstoreClient(
      new XsRingTransport({
        page,
        notify: () => xcU.evtchnNotify(port),
        subscribe: (kick) => {
          const p = xcU.waitForEvents(domid, (ev) => {
            if (ev === port) kick();
          });
          return () => p.close();
        },
      }),
    );
    t.after(() => guest.close());

    const dom0Events: WatchEvent[] = [];
    const guestEvents: WatchEvent[] = [];
    void (async () => {
      for await (const e of await dom0.watch(`${home}/data`, "d0")) dom0Events.push(e);
    })();
    void (async () => {
      for await (const e of await guest.watch("data", "g")) guestEvents.push(e);
    })();
    await guest.write("data/before", "1");
    await waitFor(
      () =>
        dom0Events.some((e) => e.path === `${home}/data/before`) &&
        guestEvents.some((e) => e.path === "data/before"),
      {
        message: "events before the restart",
      },
    );

    // A transaction of the guest's is open when xenstored dies; its commit must be retried.
    let attempts = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = guest.transaction(async (x) => {
      attempts++;
      const n = Number((await x.tryRead("data/counter")) ?? "0");
      if (attempts === 1) await held;
      await x.write("data/counter", String(n + 1));
    });
    await waitFor(() => attempts === 1, { message: "transaction started" });

    await host.restartService("xenstored", { kill: true });
    release();
    await tx;
    assert.ok(attempts >= 2, `the transaction was retried after EAGAIN (${attempts} attempts)`);
    assert.equal(await dom0.read(`${home}/data/counter`), "1");
    assert.equal(await dom0.read(`${home}/data/before`), "1", "the tree survived the restart");

    // Watches were re-registered by both clients, without the application doing anything.
    await dom0.write(`${home}/data/after`, "2");
    await waitFor(() => dom0Events.some((e) => e.path === `${home}/data/after`), {
      timeoutMs: 15_000,
      message: "dom0's session watch after the restart",
    });
    await waitFor(() => guestEvents.some((e) => e.path === "data/after"), {
      timeoutMs: 15_000,
      message: "the guest's ring watch after the restart",
    });
    assert.equal(dom0.connected, true);
    assert.equal(guest.connected, true);
  });
});
