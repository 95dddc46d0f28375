// blkback's queue threads (queueThreads: true): queues ≥ 1 of a file- or null-backed vbd are served
// on threads of their own (Linux's kthread per ring). One host process, a hand-driven frontend.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, XenbusState } from "@xensim/abi";
import type { ChaosCommand, ChaosReply, FaultHit } from "@xensim/chaos";
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

const enc = new TextEncoder();
const dec = new TextDecoder();

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

  /** The service's chaos plane (xensim.chaos.svc.blkback, as the toolstack's chaos API sends it). */
  async function chaos(cmd: ChaosCommand): Promise<ChaosReply> {
    const m = await env.bus.request("xensim.chaos.svc.blkback", enc.encode(JSON.stringify(cmd)), {
      timeoutMs: 5000,
    });
    const r = JSON.parse(dec.decode(m.data)) as ChaosReply;
    assert.equal(r.ok, true, r.error);
    return r;
  }
  let seenSeq = 0;
  /** The service's fault records since the last call. */
  async function newHits(): Promise<FaultHit[]> {
    const r = await chaos({ op: "records", since: seenSeq });
    const hits = r.records ?? [];
    for (const h of hits) seenSeq = Math.max(seenSeq, h.seq);
    return hits;
  }
  /**
   * The vCPUs of the queue threads whose hits of `kind` reached the service's record (their targets
   * name them; a thread's hits come as messages, shortly after its responses).
   */
  async function threadVcpus(kind: string, expect: number): Promise<number[]> {
    const out = new Set<number>();
    for (let i = 0; i < 250 && out.size < expect; i++) {
      for (const h of await newHits()) {
        const m = /\(queue thread, vCPU (\d+)\)/.exec(h.target);
        if (h.kind === kind && m) out.add(Number(m[1]));
      }
      if (out.size < expect) await new Promise((r) => setTimeout(r, 20));
    }
    return [...out].sort();
  }

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

  it("a fault set on blkback applies on every queue thread (grant, store, ring, backend), one control path", async (t) => {
    const { f } = await device(51760, "null:size=64M", 4);
    await newHits();
    t.after(() => chaos({ op: "heal" }));
    // grant.map-failed, before any data grant of this vbd is persistently mapped: every queue's
    // first read fails its map (GNTTABOP_map_grant_ref) and is answered BLKIF_RSP_ERROR
    await chaos({ op: "set", spec: { kind: "grant.map-failed", code: "GNTST_bad_gntref" } });
    for (let q = 0; q < 4; q++) assert.equal((await f.read(q, 8 * q, 1)).status, BLKIF_RSP_ERROR, `q${q}`);
    assert.deepEqual(await threadVcpus("grant.map-failed", 3), [6, 7, 8]);
    await chaos({ op: "heal", kind: "grant.map-failed" });
    for (let q = 0; q < 4; q++)
      assert.equal((await f.read(q, 8 * q, 1)).status, BLKIF_RSP_OKAY, `healed q${q}`);

    // store.io-error: the thread's own instance of the store fails (BLKIF_RSP_ERROR)
    await chaos({ op: "set", spec: { kind: "store.io-error" } });
    for (let q = 0; q < 4; q++) assert.equal((await f.read(q, 8 * q, 1)).status, BLKIF_RSP_ERROR, `q${q}`);
    assert.deepEqual(await threadVcpus("store.io-error", 3), [6, 7, 8]);
    await chaos({ op: "heal" });
    for (let q = 0; q < 4; q++)
      assert.equal((await f.read(q, 8 * q, 1)).status, BLKIF_RSP_OKAY, `healed q${q}`);

    // ring.response-corrupted: garbage in the response slot's status
    await chaos({ op: "set", spec: { kind: "ring.response-corrupted" } });
    for (let q = 0; q < 4; q++) assert.notEqual((await f.read(q, 8 * q, 1)).status, BLKIF_RSP_OKAY, `q${q}`);
    assert.deepEqual(await threadVcpus("ring.response-corrupted", 3), [6, 7, 8]);
    await chaos({ op: "heal" });
    // healed everywhere: no thread injects any more
    for (let q = 0; q < 4; q++) assert.equal((await f.read(q, 8 * q, 1)).status, BLKIF_RSP_OKAY);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await newHits(), []);

    // backend.response-duplicated: two responses with one id (the frontend takes the first; the
    // ring is out of step afterwards, as with any backend that answers twice: last on this vbd).
    // blkback writes the second response only while another consumed request keeps a slot free, so
    // each queue gets two reads at once and the store holds them a little (store.latency).
    await chaos({ op: "set", spec: { kind: "store.latency", delayMs: 20 } });
    await chaos({ op: "set", spec: { kind: "backend.response-duplicated" } });
    // (a frontend out of step may never see its second answer: the reads are not awaited)
    for (let q = 0; q < 4; q++)
      for (const read of [f.read(q, 8 * q, 1), f.read(q, 8 * q + 4, 1)]) void read.catch(() => {});
    assert.deepEqual(await threadVcpus("backend.response-duplicated", 3), [6, 7, 8]);
    await chaos({ op: "heal" });
    f.close();
  });

  it("a queue thread killed mid-I/O: its grant maps are released at once, the vbd fails with an error node, the frontend reconnects", async (t) => {
    const devid = 51776;
    t.after(() => chaos({ op: "heal" }));
    const { f, backendPath, frontendPath } = await device(devid, "null:size=64M", 2);
    // queue 1 (thread on vCPU 6) maps data grants persistently; then a read stays in its store
    for (let i = 0; i < 4; i++) assert.equal((await f.read(1, 8 * i, 4)).status, BLKIF_RSP_OKAY);
    await chaos({ op: "set", spec: { kind: "store.latency", delayMs: 60_000 } });
    const inFlight = f.read(1, 64, 2);
    await new Promise((r) => setTimeout(r, 100));
    await chaos({ op: "set", spec: { kind: "blkback.queue-thread-killed" } });
    await chaos({ op: "heal" });
    // xenbus_dev_fatal: the error node, and the backend goes Closing
    await f.waitBackend([XenbusState.Closing]);
    const errNode = `/local/domain/0/error/${backendPath.slice("/local/domain/0/".length)}/error`;
    const err = (await env.xs.tryRead(errNode)) ?? "";
    assert.match(err, /queue thread .*died/);
    // At once (the frontend has not closed yet): no data page is mapped any more — the dead
    // thread's persistent grants and the in-flight request's maps were unmapped from its ledger.
    // Granted pages a backend still maps could not be revoked (gnttab_end_foreign_access fails).
    for (const r of f.dataRefs) assert.equal(await guest.xc.gnttabEndAccess(r), true, `data ref ${r}`);
    // The ring pages and ports are the service's (xen_blkif_disconnect unmaps them when the
    // frontend closes); still mapped now.
    assert.equal(await guest.xc.gnttabEndAccess(f.ringRefs[1]![0]!), false);
    await f.setState(XenbusState.Closed);
    await f.waitBackend([XenbusState.Closed]);
    for (const refs of f.ringRefs)
      for (const r of refs) assert.equal(await guest.xc.gnttabEndAccess(r), true, `ring ref ${r}`);
    f.close();
    void inFlight.catch(() => {}); // never answered: the frontend re-issues it after reconnecting (blkif_recover)
    // The frontend connects again: queue 1 on a new thread
    await env.xs.write(`${frontendPath}/state`, String(XenbusState.Initialising));
    await waitState(backendPath, XenbusState.InitWait);
    const again = await TestFrontend.connect({
      xs: env.xs,
      xc: guest.xc,
      events: guest.events,
      domid: guest.domid,
      frontendPath,
      backendPath,
      gfnBase: gfn,
      refBase: ref,
      ringPageOrder: 1,
      queues: 2,
      persistent: true,
      dataPages: 8,
    });
    gfn += 2 * 2 + 8;
    ref += 2 * 2 + 8;
    for (let q = 0; q < 2; q++) assert.equal((await again.read(q, 8, 1)).status, BLKIF_RSP_OKAY, `q${q}`);
    const onThread = perQueue((await env.host.metrics()).body, "blkback_ring_on_queue_thread", String(devid));
    assert.deepEqual(Object.fromEntries(onThread), { 0: 0, 1: 1 });
    again.close();
  });

  async function waitState(backendPath: string, state: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (Number(await env.xs.tryRead(`${backendPath}/state`)) === state) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`backend never reached state ${state}`);
  }
});
