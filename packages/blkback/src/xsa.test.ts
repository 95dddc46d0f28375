// Regression tests named after the advisories on backends validating hostile frontends (fact sheet
// §10): XSA-155 (double fetch), XSA-216 (response padding), XSA-229 (data only within each
// segment's own page range), XSA-332 (event storms), XSA-361/362/365 (grant-map errors in a batch).
// BlkbackRing over real page-store memory and a grant table of the test's own (testing/ring-rig.ts);
// each test fails on the vulnerable behaviour (docs/security.md says how each was checked).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BLKIF_RING_ENTRY_BYTES, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp } from "@xensim/abi";
import { type MemView } from "@xensim/memory";
import { type RingRig, ringRig } from "./testing/ring-rig.js";

const SRING_HEADER = 64;
const E = BLKIF_RING_ENTRY_BYTES.x86_64;

/** The ring rig with the XSA layout; `spy` wraps the backend's view of the ring (to see and to race what the backend reads). */
const rig = (spy?: (v: MemView) => MemView): RingRig =>
  ringRig({ xsaLayout: true, storeFrames: 256, domainPages: 128, ...(spy ? { spy } : {}) });

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

describe("backend advisories (blkback)", () => {
  it("XSA-155: each request is fetched from the shared ring once; rewriting it afterwards changes nothing", async () => {
    const slotStart = (i: number) => SRING_HEADER + i * E;
    const reads = new Map<number, number>(); // slot → reads of its bytes
    let poison: (() => void) | undefined;
    const r = rig((v) => {
      const touch = (off: number, len: number) => {
        for (let i = 0; i < 32; i++) {
          const s = slotStart(i);
          if (off < s + E && off + len > s) {
            reads.set(i, (reads.get(i) ?? 0) + 1);
            // the hostile frontend rewrites the slot as soon as the backend has read it
            const p = poison;
            poison = undefined;
            p?.();
          }
        }
      };
      return new Proxy(v, {
        get(target, prop, recv) {
          const f = Reflect.get(target, prop, recv) as unknown;
          if (typeof f !== "function") return f;
          if (["read", "readInto", "liveBytes", "getU8", "getU16", "getU32", "getU64"].includes(String(prop)))
            return (off: number, a?: unknown, b?: unknown, c?: unknown) => {
              const len =
                prop === "read" || prop === "liveBytes"
                  ? (a as number)
                  : prop === "readInto"
                    ? ((c as number | undefined) ??
                      (a as Uint8Array).length - ((b as number | undefined) ?? 0))
                    : { getU8: 1, getU16: 2, getU32: 4, getU64: 8 }[String(prop)]!;
              const out = (f as (...x: unknown[]) => unknown).call(target, off, a, b, c);
              touch(off, len);
              return out;
            };
          if (prop === "copyTo")
            return (dst: MemView, dstOff: number, srcOff: number, len: number) => {
              const out = (f as (...x: unknown[]) => unknown).call(target, dst, dstOff, srcOff, len);
              touch(srcOff, len);
              return out;
            };
          return (f as (...x: unknown[]) => unknown).bind(target);
        },
      });
    });
    r.disk.bytes.fill(0x77, 0, 4096);
    // a one-segment READ of sector 0 into page 200 ...
    const slot = r.put(BlkifOp.READ, 0, [[200, 0, 7]], [42, 0]);
    // ... which becomes, once read, a WRITE of 11 segments of an ungranted ref at another sector
    poison = () => {
      const evil = rig();
      const s = evil.put(
        BlkifOp.WRITE,
        1000,
        Array.from({ length: 11 }, () => [999, 0, 7]),
        [43, 0],
      );
      r.front.view.write(slot, evil.front.view.read(s, E));
    };
    r.push();
    await settle();
    assert.deepEqual(r.responseRecords(), [{ idLo: 42, idHi: 0, status: BLKIF_RSP_OKAY, op: BlkifOp.READ }]);
    assert.deepEqual(r.disk.ops, ["read 0+8"], "the request as first read, nothing of the rewrite");
    assert.deepEqual(r.data[0]!.read(0, 4096), new Uint8Array(4096).fill(0x77));
    assert.equal(reads.get(0), 1, "slot 0 was read exactly once");
  });

  it("XSA-216: a response is written whole — its padding never carries request (or stack) bytes", async () => {
    const r = rig();
    // id all ones: the request's bytes under the response's padding (offsets 9 and 12..15) are 0xff
    const slot = r.put(BlkifOp.READ, 0, [[200, 0, 0]], [0xffff_ffff, 0xffff_ffff]);
    r.front.view.write(slot + 32, new Uint8Array(E - 32).fill(0xee)); // and the unused rest of the slot
    r.push();
    await settle();
    const raw = r.front.view.read(slot, 16);
    assert.deepEqual([...raw.subarray(0, 8)], new Array(8).fill(0xff), "id");
    assert.equal(raw[8], BlkifOp.READ, "operation");
    assert.equal(raw[9], 0, "padding after operation");
    assert.deepEqual([...raw.subarray(10, 12)], [0, 0], "status OKAY");
    assert.deepEqual([...raw.subarray(12, 16)], [0, 0, 0, 0], "padding after status");
  });

  it("XSA-229: each segment's data stays within its own sectors of its own page, never the adjacent frame", async () => {
    const r = rig();
    for (const v of r.data) v.write(0, new Uint8Array(4096).fill(0xcc)); // canary
    r.disk.bytes.set(new Uint8Array(2 * 512).fill(0x11), 0);
    r.disk.bytes.set(new Uint8Array(3 * 512).fill(0x22), 2 * 512);
    // sectors 6..7 of page 200 then 0..2 of page 201 (machine-adjacent frames, separate grants)
    r.put(BlkifOp.READ, 0, [
      [200, 6, 7],
      [201, 0, 2],
    ]);
    r.push();
    await settle();
    assert.equal(r.responseRecords()[0]?.status, BLKIF_RSP_OKAY);
    assert.deepEqual(
      r.data[0]!.read(0, 6 * 512),
      new Uint8Array(6 * 512).fill(0xcc),
      "page 200 before sector 6",
    );
    assert.deepEqual(r.data[0]!.read(6 * 512, 1024), new Uint8Array(1024).fill(0x11));
    assert.deepEqual(r.data[1]!.read(0, 3 * 512), new Uint8Array(3 * 512).fill(0x22));
    assert.deepEqual(
      r.data[1]!.read(3 * 512, 5 * 512),
      new Uint8Array(5 * 512).fill(0xcc),
      "page 201 after sector 2",
    );
    assert.deepEqual(r.data[2]!.read(0, 4096), new Uint8Array(4096).fill(0xcc), "the next frame untouched");
    // a segment whose sector range leaves its page is refused before any data moves
    r.put(BlkifOp.READ, 0, [[202, 7, 8]], [2, 0]);
    r.push();
    await settle();
    assert.equal(r.responseRecords()[0]?.status, BLKIF_RSP_ERROR);
    assert.deepEqual(r.data[2]!.read(0, 4096), new Uint8Array(4096).fill(0xcc));
  });

  it("XSA-332: an event storm with nothing on the ring costs no map, no response and no kick back", async () => {
    const r = rig();
    for (let i = 0; i < 20_000; i++) r.back.kick();
    await settle();
    assert.equal(r.hv.maps, 0);
    assert.equal(r.hv.notifies, 0, "nothing to answer, no event back");
    assert.deepEqual(r.responseRecords(), []);
    assert.equal(r.halts.length, 0);
    // and real work after the storm is served
    r.put(BlkifOp.READ, 0, [[200, 0, 7]]);
    r.push();
    await settle();
    assert.equal(r.responseRecords()[0]?.status, BLKIF_RSP_OKAY);
    assert.equal(r.back.stats.requests, 1);
  });

  it("XSA-361/362/365: a batch where one grant fails to map is answered ERROR, the others unmapped, the ring still served", async () => {
    const r = rig();
    const segs: [number, number, number][] = [200, 201, 202, 203, 999, 204, 205, 206].map((g) => [g, 0, 7]);
    r.put(BlkifOp.WRITE, 0, segs, [7, 0]);
    r.put(BlkifOp.READ, 64, [[200, 0, 7]], [8, 0]);
    r.push();
    await settle();
    assert.deepEqual(
      r.responseRecords().map((x) => [x.idLo, x.status]),
      [
        [7, BLKIF_RSP_ERROR],
        [8, BLKIF_RSP_OKAY],
      ],
    );
    assert.equal(r.hv.mapped.size, 0, "every partial success was unmapped");
    assert.deepEqual(r.disk.ops, ["read 64+8"], "nothing of the failed write reached the disk");
    assert.equal(r.halts.length, 0, "no BUG(): the ring goes on");
    assert.equal(r.back.stats.errors, 1);
  });
});
