import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { RangeLog } from "./remote-memory.js";

test("RangeLog keeps exactly the bytes written: merged when they overlap or touch, gaps kept", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 4000 }),
          fc.integer({ min: 0, max: 96 }),
        ),
      ),
      (writes) => {
        const log = new RangeLog();
        const want = new Map<number, Uint8Array>();
        for (const [frame, off, len] of writes) {
          log.written(frame, off, len);
          const m = want.get(frame) ?? new Uint8Array(4096);
          m.fill(1, off, Math.min(4096, off + len));
          want.set(frame, m);
        }
        const got = new Map<number, Uint8Array>();
        const taken = log.take();
        for (const r of taken) {
          assert.ok(r.length > 0);
          const m = got.get(r.frame) ?? new Uint8Array(4096);
          for (let i = r.offset; i < r.offset + r.length; i++) {
            assert.equal(m[i], 0, "ranges of one frame are disjoint");
            m[i] = 1;
          }
          got.set(r.frame, m);
        }
        for (const [frame, m] of want) {
          if (!m.includes(1)) continue;
          assert.deepEqual(got.get(frame), m, `frame ${frame}: exactly the written bytes`);
        }
        // touching ranges merge: per frame, no two taken ranges are adjacent
        for (const a of taken)
          for (const b of taken)
            if (a !== b && a.frame === b.frame) assert.notEqual(a.offset + a.length, b.offset);
        assert.equal(log.empty, true);
      },
    ),
  );
});
