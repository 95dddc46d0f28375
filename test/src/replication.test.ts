// Frame replication between two host processes: page-server A and page-server B, each its own
// process (runServiceMain standalone) on real NATS (batches, follow, head) and gRPC (the API and
// gap-fill). Random writes on A with a fence after each round; B's replica equals A's frames at
// every fence — on a clean bus, and with A's bus dropping, duplicating and delaying batches.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CallClient,
  connectNatsBus,
  createGrpcCallClient,
  collectFaultRecords,
  type EventBus,
  sendFaultRules,
} from "@xensim/bus";
import {
  type AllocFramesReply__Output,
  type FenceReply__Output,
  type FenceStatus__Output,
  loadPageServerProto,
  type ReadFrameReply__Output,
} from "@xensim/proto";
import { freePort, type NatsServer, seededRandom, startNatsServer, testSeed, waitFor } from "@xensim/testkit";
import { REPO_ROOT } from "./harness.js";

const ENTRY = join(REPO_ROOT, "services", "page-server", "dist", "main.js");
const def = () => loadPageServerProto().xensim.pageserver.v1.PageServer.service;

interface PageServerProc {
  proc: ChildProcess;
  calls: CallClient;
  output(): string;
  stop(): Promise<void>;
}

async function startPageServer(hostId: string, natsUrl: string): Promise<PageServerProc> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      ENTRY,
      "--host-id",
      hostId,
      "--nats",
      natsUrl,
      "--grpc-listen",
      `127.0.0.1:${port}`,
      "--shared-memory-bytes",
      String(4096 * 2048),
      "--log-level",
      process.env.XENSIM_LOG_LEVEL ?? "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const calls = createGrpcCallClient(def(), `127.0.0.1:${port}`);
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`page-server ${hostId} exited: ${out}`);
      try {
        await calls.call("Fence", {}, { deadlineMs: 500 });
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 20_000, message: `page-server ${hostId} answering` },
  );
  return {
    proc,
    calls,
    output: () => out,
    async stop() {
      calls.close();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** Fault records of every page-server (both hosts answer). */
function allFaultRecords(bus: EventBus): Promise<Array<{ kind: string }>> {
  return collectFaultRecords(bus, "page-server").then((replies) =>
    replies.flatMap((r) => Object.values(r).flatMap((c) => c.records)),
  );
}

describe("frame replication between two host processes (NATS + gRPC)", () => {
  let nats: NatsServer;
  let a: PageServerProc;
  let b: PageServerProc;
  let bus: EventBus;
  let frames: number[] = [];
  const rnd = seededRandom(testSeed());

  before(async () => {
    nats = await startNatsServer();
    [a, b] = await Promise.all([startPageServer("hostA", nats.url), startPageServer("hostB", nats.url)]);
    bus = await connectNatsBus({ servers: nats.url, name: "replication-test" });
    frames = (await a.calls.call<unknown, AllocFramesReply__Output>("AllocFrames", { count: 16 })).frames;
    const r = await a.calls.call<unknown, FenceReply__Output>("ReplicateFrames", { peer: "hostB", frames });
    const st = await b.calls.call<unknown, FenceStatus__Output>("Fence", { fence: r.fence, waitMs: 10_000 });
    assert.ok(st.applied, "initial copy applied on B");
  });
  after(async () => {
    await bus?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await nats?.stop();
  });

  /** Rounds of random writes on A, a fence per round; B equals A at every fence. */
  async function rounds(n: number): Promise<number> {
    let writes = 0;
    for (let r = 0; r < n; r++) {
      const ws = Array.from({ length: 1 + rnd.int(40) }, () => {
        const offset = rnd.int(4096 - 1);
        const len = 1 + rnd.int(Math.min(200, 4096 - offset));
        return {
          frame: frames[rnd.int(frames.length)]!,
          offset,
          data: Buffer.from(Array.from({ length: len }, () => rnd.int(256))),
        };
      });
      writes += ws.length;
      const { fence } = await a.calls.call<unknown, FenceReply__Output>("WriteFrames", {
        writes: ws,
        publish: true,
      });
      const want = await a.calls.call<unknown, ReadFrameReply__Output>("ReadFrame", { frames });
      const st = await b.calls.call<unknown, FenceStatus__Output>("Fence", { fence, waitMs: 10_000 });
      assert.ok(st.applied, `fence ${fence?.seq} applied on B (${JSON.stringify(st)})`);
      const got = await b.calls.call<unknown, ReadFrameReply__Output>("ReadFrame", { host: "hostA", frames });
      for (let i = 0; i < frames.length; i++) {
        assert.equal(got.data[i]!.length, 4096);
        assert.ok(
          Buffer.compare(got.data[i]!, want.data[i]!) === 0,
          `frame ${frames[i]} differs at fence ${fence?.seq}`,
        );
      }
    }
    return writes;
  }

  it("B's replica equals A's frames at every fence", async () => {
    const writes = await rounds(60);
    assert.ok(writes > 500);
  });

  it("drop and duplicate on the bus lose nothing (gap-fill over gRPC)", async () => {
    const rules = {
      seed: 11,
      events: [
        { subject: "pages.hostA.batches", drop: 0.25, duplicate: 0.25, delayMs: [0, 3] as [number, number] },
      ],
    };
    const reply = await sendFaultRules(bus, "page-server", rules, { component: "bus" });
    assert.ok(reply.ok, JSON.stringify(reply));
    try {
      const writes = await rounds(60);
      assert.ok(writes > 500);
      // The faults really happened (records of hostA's page-server bus).
      const kinds = new Set((await allFaultRecords(bus)).map((r) => r.kind));
      assert.ok(kinds.has("drop") && kinds.has("duplicate"), `fault kinds seen: ${[...kinds]}`);
    } finally {
      await sendFaultRules(bus, "page-server", null, { component: "bus" });
    }
  });
});
