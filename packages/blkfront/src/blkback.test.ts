// Interop: Blkfront against the real blkback driver (@xensim/blkback) over the same in-process host
// (real grant-table / event-channel cores, real xenstore engine), with a MemoryStore behind it and
// the vbd directories written as libxl does. Negotiation variants with read-after-write, and a
// blkback restart (driver closed, a new one takes the device over) with I/O on both sides of it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XenbusState } from "@xensim/abi";
import { BlkbackDriver } from "@xensim/blkback";
import { applyVbdDirectories, vbdDirectories } from "@xensim/libxl";
import type { BlkbackConfig, BlkfrontConfig } from "@xensim/blkif";
import { MemoryStore } from "@xensim/blkstore";
import { GrantRefPool, PortDispatcher } from "@xensim/xenbus";
import { Blkfront } from "./blkfront.js";
import { DEFAULT_GRANT_REFS, physmapMemory } from "./environment.js";
import { EngineHub } from "@xensim/xenstore-client";
import { TestHost, TestXc } from "./testing/host.js";
import { pattern } from "./testing/rig.js";

const GUEST = 9;
const SECTORS = 8192;

async function setup(front: Partial<BlkfrontConfig>, back: Partial<BlkbackConfig> = {}) {
  const host = new TestHost(8192);
  host.createDomain(0, 4096);
  host.createDomain(GUEST, 6000);
  const hub = new EngineHub();
  const xs = hub.client(0);
  const dom0 = new TestXc(host, 0);
  const xg = new TestXc(host, GUEST);
  const bytes = new Uint8Array(SECTORS * 512);
  const startDriver = () =>
    BlkbackDriver.start({
      store: xs,
      hv: dom0,
      openStore: async () => new MemoryStore({ buffer: bytes }),
      clock: () => 0,
      config: { maxRingPageOrder: 6, maxQueues: 4, ...back },
    });
  let driver = await startDriver();
  const dirs = vbdDirectories({ frontend: GUEST, vdev: "xvda", params: "memory" });
  await xs.transaction((tx) => applyVbdDirectories(tx, dirs));
  const events = new PortDispatcher();
  host.receive(GUEST, (p) => events.dispatch(p));
  const refs = new GrantRefPool(DEFAULT_GRANT_REFS);
  const bf = await Blkfront.open({
    store: hub.client(0),
    self: GUEST,
    nodename: dirs.frontendPath,
    hypervisor: xg,
    memory: physmapMemory(xg, GUEST, { firstGfn: 0x1000, maxPages: 5000 }),
    events,
    grantRefs: refs,
    config: front,
  });
  const io = {
    write: (sector: number, data: Uint8Array) =>
      new Promise<number>((r) =>
        bf.submit({ op: "write", sector, nrSectors: data.length / 512, segs: [data] }, r),
      ),
    read: async (sector: number, n: number) => {
      const data = new Uint8Array(n * 512);
      const st = await new Promise<number>((r) =>
        bf.submit({ op: "read", sector, nrSectors: n, segs: [data] }, r),
      );
      return { st, data };
    },
  };
  return {
    bf,
    bytes,
    io,
    xs,
    dirs,
    refs,
    get driver() {
      return driver;
    },
    async restartDriver() {
      await driver.close();
      driver = await startDriver();
    },
    async close() {
      await bf.close();
      await driver.close();
    },
  };
}

describe("against the real blkback", () => {
  const variants: [string, Partial<BlkfrontConfig>, Partial<BlkbackConfig>][] = [
    ["1 page, 1 queue, persistent, indirect", { maxRingPageOrder: 0, maxQueues: 1 }, {}],
    ["4 pages, 4 queues, no persistent", { maxRingPageOrder: 2, maxQueues: 4, persistent: false }, {}],
    ["64 pages, 2 queues, indirect 128", { maxRingPageOrder: 6, maxQueues: 2, maxIndirectSegments: 128 }, {}],
    [
      "16 pages, no indirect at the backend",
      { maxRingPageOrder: 4, maxQueues: 1 },
      { maxIndirectSegments: 0 },
    ],
  ];
  for (const [name, front, back] of variants)
    it(`${name}: connect, concurrent writes, read back`, async () => {
      const s = await setup(front, back);
      const info = await s.bf.whenConnected();
      assert.equal(info.sectors, SECTORS);
      const writes: [number, Uint8Array][] = [];
      for (let i = 0; i < 40; i++) writes.push([i * 200, pattern(i, 512 * (1 + ((i * 37) % 200)))]);
      const sts = await Promise.all(writes.map(([sec, d]) => s.io.write(sec, d)));
      assert.ok(
        sts.every((x) => x === 0),
        `statuses ${sts.join(",")}`,
      );
      for (const [sec, d] of writes) {
        const got = await s.io.read(sec, d.length / 512);
        assert.equal(got.st, 0);
        assert.ok(Buffer.from(got.data).equals(Buffer.from(d)));
        assert.ok(Buffer.from(s.bytes.subarray(sec * 512, sec * 512 + d.length)).equals(Buffer.from(d)));
      }
      assert.equal(s.bf.stats.protocolErrors, 0);
      await s.close();
      assert.equal(await s.xs.tryRead(`${s.dirs.frontendPath}/state`), String(XenbusState.Closed));
      assert.equal(s.refs.available, DEFAULT_GRANT_REFS, "every grant ended once blkback unmapped");
    });

  it("blkback restarts (driver closed, a new one takes over): writes before, during and after all land once", async () => {
    const s = await setup({ maxRingPageOrder: 1, maxQueues: 2 });
    await s.bf.whenConnected();
    const done = new Map<number, number[]>();
    const all: Promise<void>[] = [];
    const write = (k: number) => {
      done.set(k, []);
      all.push(
        new Promise((res) =>
          s.bf.submit({ op: "write", sector: k * 16, nrSectors: 16, segs: [pattern(k, 8192)] }, (st) => {
            done.get(k)!.push(st);
            res();
          }),
        ),
      );
    };
    for (let k = 0; k < 20; k++) write(k);
    const restart = s.restartDriver();
    for (let k = 20; k < 40; k++) write(k);
    await restart;
    for (let k = 40; k < 60; k++) write(k);
    await Promise.all(all);
    for (const [k, sts] of done) assert.deepEqual(sts, [0], `write ${k}`);
    for (let k = 0; k < 60; k++) {
      const got = await s.io.read(k * 16, 16);
      assert.ok(Buffer.from(got.data).equals(Buffer.from(pattern(k, 8192))), `write ${k} reads back`);
    }
    // The new blkback attached to the live rings at the page's indices: no new handshake needed.
    assert.equal(s.bf.stats.connects, 1);
    assert.equal(s.bf.stats.completed, 60 + 60);
    assert.equal(s.bf.stats.protocolErrors, 0);
    await s.close();
  });
});
