// XSA-326 as real clients do it: xenstored runs as its own process (`xensim xenstored`), raw unix
// socket clients flood it and never read, and its resident memory (VmRSS of /proc/<pid>/status) is
// sampled. The bounds asserted are generous resource bounds, not timings.
//
// How the tests were checked against the vulnerable behaviour: with the bounds disabled
// (XsOutputQueues.canRead always true, dropBytes never reached — xenstored as it was before) the
// READ flood took xenstored from 93 MB to 3.8 GB RSS within the flood budget (the stall and RSS
// assertions failed), and the never-reading watcher was never dropped while xenstored grew to
// 556 MB queueing its events (the drop and RSS assertions failed). With the bounds, the flooder is
// stalled after ~80 replies and xenstored stays at its baseline; the watcher is dropped after
// ~3000 events (8 MiB queued). The guest ring: unbounded, xenstored took 596,000 READs (11.9 MB)
// from the ring that never consumed a reply and queued 2.4 GB for it (host RSS 2.9 GB); bounded, it
// takes ~55 (20 outstanding), queues under the 2.5 MiB memory quota and drops the events beyond.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort, sleep, spawnJsonLinesChild, tempDir, waitFor } from "@xensim/testkit";
import { haveBinary, rssBytes, startXenstored, xenstoreTool } from "./harness.js";

const RING_FLOOD_HOST = join(import.meta.dirname, "fixtures", "ring-flood-host.js");

const MB = 1024 * 1024;
/** The bound asserted: far below what an unbounded daemon reaches (GBs), far above a healthy one. */
const RSS_BOUND = 300 * MB;
/** The same for the ring test's host process, which also runs the hypervisor and the guest. */
const HOST_RSS_BOUND = 400 * MB;

const XS_READ = 2;
const XS_WATCH = 4;
const XS_WRITE = 11;

/** One xs wire packet: the 16-byte xsd_sockmsg header (little-endian) and the payload. */
function xsPacket(type: number, reqId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32LE(type, 0);
  header.writeUInt32LE(reqId, 4);
  header.writeUInt32LE(0, 8);
  header.writeUInt32LE(payload.length, 12);
  return Buffer.concat([header, payload]);
}

const nulTerminated = (...parts: string[]) => Buffer.from(parts.map((p) => `${p}\0`).join(""), "latin1");

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once("connect", () => resolve(sock));
    sock.once("error", reject);
  });
}

interface Health {
  connections: number;
  stalledConnections: number;
  connectionsDroppedForOutput: number;
}

async function health(port: number): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return (await res.json()) as Health;
}

/** Samples a process's RSS every 100 ms until stopped; returns the peak. */
function rssSampler(pid: number): { stop(): number; peak(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {}
  }, 100);
  return {
    peak: () => peak,
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/**
 * Writes `batch` over and over without ever reading, as long as the socket takes it, until it has
 * not taken anything for `stuckMs` (the daemon stopped reading) or `budgetMs` passed. Returns the
 * bytes the kernel accepted.
 */
async function floodUntilStuck(
  sock: Socket,
  batch: Buffer,
  stuckMs: number,
  budgetMs: number,
): Promise<number> {
  let accepted = 0;
  const started = Date.now();
  let lastProgress = Date.now();
  while (Date.now() - started < budgetMs) {
    if (sock.writableLength === 0) {
      accepted += batch.length;
      lastProgress = Date.now();
      sock.write(batch);
      continue;
    }
    if (Date.now() - lastProgress > stuckMs) break;
    await sleep(20);
  }
  return accepted;
}

describe("XSA-326: xenstored's memory stays bounded against clients that never read", () => {
  const dir = tempDir("xensim-flood-");
  after(() => dir.cleanup());

  it("XSA-326: a unix-socket client flooding READs and never reading: stalled, RSS bounded, others served, memory returned", async (t) => {
    const socket = join(dir.path, "flood-read.sock");
    const httpPort = await freePort();
    const xenstored = await startXenstored({ socket, httpPort });
    t.after(() => xenstored.kill9());
    await waitFor(async () => (await health(httpPort).catch(() => undefined)) !== undefined, {
      timeoutMs: 20_000,
      message: "xenstored health endpoint",
    });
    const baseline = rssBytes(xenstored.pid);

    // A 4000-byte value: every 26-byte READ asks for a 4016-byte reply (150x amplification).
    const setup = await openSocket(socket);
    setup.write(xsPacket(XS_WRITE, 1, Buffer.concat([nulTerminated("/big"), Buffer.alloc(4000, 0x61)])));
    await new Promise<void>((resolve) => setup.once("data", () => resolve()));
    setup.destroy();

    const flooder = await openSocket(socket);
    flooder.pause(); // never reads a reply
    const readBig = xsPacket(XS_READ, 7, nulTerminated("/big"));
    const batch = Buffer.concat(Array.from({ length: 2500 }, () => readBig)); // 65 KB of requests
    const rss = rssSampler(xenstored.pid);
    const accepted = await floodUntilStuck(flooder, batch, 1500, 20_000);

    // The daemon stopped reading the flooder, but still serves everyone else.
    const h = await health(httpPort);
    assert.ok(h.stalledConnections >= 1, `the flooder is stalled (${JSON.stringify(h)})`);
    if (haveBinary("xenstore-read")) {
      const r = xenstoreTool(socket, "xenstore-read", ["/big"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim().length, 4000);
    }
    const peak = rss.stop();
    t.diagnostic(
      `requests accepted from the flooder: ${(accepted / MB).toFixed(1)} MB; xenstored RSS baseline ${(baseline / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB`,
    );
    // Unbounded, the kernel keeps taking requests while xenstored queues 150x their size in replies.
    assert.ok(accepted < 64 * MB, `xenstored stopped reading: ${accepted} bytes of requests taken`);
    assert.ok(peak < RSS_BOUND, `xenstored RSS peak ${peak} < ${RSS_BOUND}`);

    // The flooder goes: nothing of it is kept.
    flooder.destroy();
    await waitFor(async () => (await health(httpPort)).connections === 0, {
      timeoutMs: 20_000,
      message: "the flooder's connection is gone",
    });
    const afterClose = await health(httpPort);
    assert.equal(afterClose.stalledConnections, 0);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(metrics, /^xenstore_output_queued_bytes(\{[^}]*\})? 0$/m, "no output queued for anyone");
    await sleep(500);
    const rssAfter = rssBytes(xenstored.pid);
    t.diagnostic(`xenstored RSS after the flooder left: ${(rssAfter / MB).toFixed(0)} MB`);
    assert.ok(rssAfter < RSS_BOUND, `RSS after the flooder left ${rssAfter} < ${RSS_BOUND}`);
    assert.ok(rssAfter <= peak + 16 * MB, `RSS after ${rssAfter} did not grow past the peak ${peak}`);
  });

  it("XSA-326: a watcher that never reads is dropped at the hard output limit; the writer is not held up", async (t) => {
    const socket = join(dir.path, "flood-watch.sock");
    const httpPort = await freePort();
    const xenstored = await startXenstored({ socket, httpPort });
    t.after(() => xenstored.kill9());
    await waitFor(async () => (await health(httpPort).catch(() => undefined)) !== undefined, {
      timeoutMs: 20_000,
      message: "xenstored health endpoint",
    });

    // The watcher: a 3000-byte token makes every event ~3 KB; it never reads.
    const watcher = await openSocket(socket);
    watcher.write(xsPacket(XS_WATCH, 1, nulTerminated("/flood", "t".repeat(3000))));
    watcher.pause();
    await sleep(200);

    // The writer: pipelined WRITEs of distinct nodes (every one an event for the watcher), reading
    // its replies as a good client does.
    const writer = await openSocket(socket);
    let replies = 0;
    let replyBytes = 0;
    writer.on("data", (d: Buffer) => {
      replyBytes += d.length;
      replies = Math.floor(replyBytes / 19); // "OK\0" replies: 16 + 3 bytes
    });
    const rss = rssSampler(xenstored.pid);
    let sent = 0;
    const maxWrites = 40_000; // 120 MB of events if nothing bounded the watcher's queue
    while (sent < maxWrites) {
      const chunk: Buffer[] = [];
      for (let i = 0; i < 500; i++, sent++)
        chunk.push(xsPacket(XS_WRITE, sent, nulTerminated(`/flood/k${sent}`)));
      writer.write(Buffer.concat(chunk));
      await waitFor(() => replies >= sent - 1000, { timeoutMs: 30_000, message: "writer replies" });
      if ((await health(httpPort)).connectionsDroppedForOutput > 0) break;
    }
    await waitFor(() => replies >= sent, { timeoutMs: 30_000, message: "every write answered" });
    const peak = rss.stop();
    const h = await health(httpPort);
    t.diagnostic(
      `writes before the watcher was dropped: ${sent}; xenstored RSS peak ${(peak / MB).toFixed(0)} MB`,
    );
    assert.equal(h.connectionsDroppedForOutput, 1, "the never-reading watcher was dropped");
    assert.ok(sent < maxWrites, "dropped long before the writes ran out");
    assert.equal(h.connections, 1, "only the writer is left");
    assert.ok(peak < RSS_BOUND, `xenstored RSS peak ${peak} < ${RSS_BOUND}`);
    writer.destroy();
    watcher.destroy();
  });

  it("XSA-326: a guest ring whose rsp_cons never moves: requests stall in the ring, events dropped at the memory quota, RSS bounded, released with the domain", async (t) => {
    // The host process (hypervisor + xenstored + the hostile guest on its shared memory) is a child.
    const child = spawnJsonLinesChild(RING_FLOOD_HOST);
    t.after(() => child.stop("stop"));
    const ready = await child.next("ready");
    const pid = Number(ready.pid);
    const baseline = rssBytes(pid);
    const rss = rssSampler(pid);
    child.send("flood");
    const flooded = (await child.next("flooded", 60_000)).flooded as {
      requestsWritten: number;
      requestBytesConsumed: number;
      rspCons: number;
      dom0Writes: number;
      xenstored: Record<string, number>;
    };
    const peak = rss.stop();
    t.diagnostic(
      `ring flood: ${JSON.stringify(flooded)}; host RSS baseline ${(baseline / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB`,
    );
    assert.equal(flooded.rspCons, 0, "the guest never consumed a reply");
    // 20 READs outstanding (C's default): xenstored stops taking requests from the ring; unbounded,
    // it would take every request the guest writes and queue a 4 KB reply for each.
    assert.ok(
      flooded.requestBytesConsumed < 64 * 1024,
      `xenstored consumed ${flooded.requestBytesConsumed} request bytes`,
    );
    assert.ok(flooded.xenstored.stalledConnections! >= 1, "the guest's ring is stalled");
    assert.ok(
      flooded.xenstored.outputQueuedBytes! < 3 * MB,
      "what waits for the guest is bounded by its memory quota",
    );
    assert.ok(flooded.dom0Writes >= 4000, "dom0 kept writing (its requests are not held up by the guest)");
    assert.ok(
      flooded.xenstored.eventsDroppedForMemory! > 0,
      "events beyond the guest's memory quota dropped",
    );
    assert.ok(peak < HOST_RSS_BOUND, `host RSS peak ${peak} < ${HOST_RSS_BOUND}`);

    // The domain goes: its ring, queue and accounting go with it.
    child.send("destroy");
    const destroyed = (await child.next("destroyed", 60_000)).destroyed as {
      xenstored: Record<string, number>;
    };
    assert.equal(destroyed.xenstored.connections, 1, "only dom0's session is left");
    assert.equal(destroyed.xenstored.stalledConnections, 0);
    assert.equal(destroyed.xenstored.outputQueuedBytes, 0, "nothing kept for the guest");
    const rssAfter = rssBytes(pid);
    t.diagnostic(`host RSS after the domain was destroyed: ${(rssAfter / MB).toFixed(0)} MB`);
    assert.ok(rssAfter < HOST_RSS_BOUND, `RSS after ${rssAfter} < ${HOST_RSS_BOUND}`);
  });
});
