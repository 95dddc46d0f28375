// blkback's queue threads (queueThreads: true): queues ≥ 1 of a file- or null-backed vbd are served
// on threads of their own (Linux's kthread per ring). One host process, a hand-driven frontend.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BLKIF_RSP_OKAY, XenbusState } from "@xensim/abi";
import { type Env, type Guest, startEnv } from "./testing/env.js";
import { TestFrontend } from "./testing/frontend.js";

function pattern(bytes: number, seed: number): Uint8Array {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) a[i] = (i * 13 + seed * 5 + (i >> 9)) & 0xff;
  return a;
}

/** Each queue's value of `metric`, from the exporter. */
function perQueue(metrics: string, metric: string, devid: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\d+)`, "gm"))) {
    const labels = m[1]!;
    if (!labels.includes(`devid="${devid}"`)) continue;
    const q = /queue="(\d+)"/.exec(labels)![1]!;
    out.set(q, Number(m[2]));
  }
  return out;
}

describe("blkback queue threads", () => {
  let env: Env;
  let guest: Guest;
  let images: string;
  let gfn = 0x100;
  let ref = 16;

  before(async () => {
    images = mkdtempSync(join(tmpdir(), "xensim-blkback-qthreads-"));
    env = await startEnv({ blkback: { queueThreads: true, params: { fileDir: images } } });
    guest = await env.guest(32);
  });
  after(async () => {
    await env?.close();
    rmSync(images, { recursive: true, force: true });
  });

  async function device(devid: number, params: string, queues: number) {
    const dirs = await env.addVbd({ frontend: guest.domid, vdev: String(devid), params });
    const f = await TestFrontend.connect({
      xs: env.xs,
      xc: guest.xc,
      events: guest.events,
      domid: guest.domid,
      frontendPath: dirs.frontendPath,
      backendPath: dirs.backendPath,
      gfnBase: gfn,
      refBase: ref,
      ringPageOrder: 1,
      queues,
      persistent: true,
      dataPages: 20,
    });
    gfn += queues * 2 + 20;
    ref += queues * 2 + 20;
    return { f, ...dirs };
  }

  it("serves a file-backed vbd's 4 queues on 4 threads: one disk, per-queue counters, every grant back at close", async () => {
    writeFileSync(join(images, "disk.raw"), new Uint8Array(4 << 20));
    const devid = 51712;
    const { f, backendPath } = await device(devid, `file:path=disk.raw`, 4);
    assert.equal(await env.xs.read(`${backendPath}/multi-queue-max-queues`), "4");
    // Written through queue q (thread q), read back through queue (q + 1) % 4: the threads' own
    // instances of the store are one disk.
    for (let q = 0; q < 4; q++) {
      const data = pattern(4 * 4096, q);
      assert.equal(await f.write(q, 2048 * q, data), BLKIF_RSP_OKAY, `write q${q}`);
    }
    for (let q = 0; q < 4; q++) {
      const r = await f.read((q + 1) % 4, 2048 * q, 4);
      assert.equal(r.status, BLKIF_RSP_OKAY, `read q${(q + 1) % 4}`);
      assert.deepEqual(r.data, pattern(4 * 4096, q), `data written on q${q}`);
    }
    // Each queue answered its two requests, and the exporter sees it per queue (the threads'
    // counters reach the service through shared memory within a publishing period).
    let per = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      per = perQueue((await env.host.metrics()).body, "blkback_io_completed_total", String(devid));
      if ([...per.values()].length === 4 && [...per.values()].every((n) => n === 2)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(Object.fromEntries(per), { 0: 2, 1: 2, 2: 2, 3: 2 });
    const onThread = perQueue((await env.host.metrics()).body, "blkback_ring_on_queue_thread", String(devid));
    assert.deepEqual(Object.fromEntries(onThread), { 0: 0, 1: 1, 2: 1, 3: 1 });
    await f.setState(XenbusState.Closing);
    await f.waitBackend([XenbusState.Closing]);
    await f.setState(XenbusState.Closed);
    await f.waitBackend([XenbusState.Closed]);
    // The threads unmapped their persistent grants and the service the rings.
    for (const refs of f.ringRefs)
      for (const r of refs) assert.equal(await guest.xc.gnttabEndAccess(r), true, `ring ref ${r}`);
    for (const r of f.dataRefs) assert.equal(await guest.xc.gnttabEndAccess(r), true, `data ref ${r}`);
    f.close();
  });

  it("keeps a memory store's queues on the service's thread (a thread could not open the same disk)", async () => {
    const { f } = await device(51728, "memory:size=4M", 2);
    const data = pattern(4096, 9);
    assert.equal(await f.write(1, 8, data), BLKIF_RSP_OKAY);
    const r = await f.read(0, 8, 1);
    assert.deepEqual(r.data, data);
    const onThread = perQueue((await env.host.metrics()).body, "blkback_ring_on_queue_thread", "51728");
    assert.deepEqual(Object.fromEntries(onThread), { 0: 0, 1: 0 });
    f.close();
  });

  it("serves a null store's queues on threads", async () => {
    const { f } = await device(51744, "null:size=64M", 4);
    for (let q = 0; q < 4; q++) assert.equal((await f.read(q, 64 * q, 2)).status, BLKIF_RSP_OKAY, `q${q}`);
    const onThread = perQueue((await env.host.metrics()).body, "blkback_ring_on_queue_thread", "51744");
    assert.deepEqual(Object.fromEntries(onThread), { 0: 0, 1: 1, 2: 1, 3: 1 });
    f.close();
  });
});
