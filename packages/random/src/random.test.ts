import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { deriveSeed, Mulberry32 } from "./index.js";

describe("Mulberry32", () => {
  it("gives the reference mulberry32 sequence (golden: seed 1)", () => {
    const r = new Mulberry32(1);
    const first = Array.from({ length: 3 }, () => Math.floor(r.next() * 4294967296));
    assert.deepEqual(first, [2693262067, 11749833, 2265367787]);
  });

  it("is reproducible from its seed and stays in [0, 1); int(n) in [0, n)", () => {
    const seed = Date.now() >>> 0;
    console.log(`random.test seed ${seed}`);
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 1000 }), (s, n) => {
        const a = new Mulberry32(s);
        const b = new Mulberry32(s);
        for (let i = 0; i < 20; i++) {
          const x = a.next();
          assert.equal(x, b.next());
          assert.ok(x >= 0 && x < 1);
          const k = a.int(n);
          assert.equal(k, b.int(n));
          assert.ok(Number.isInteger(k) && k >= 0 && k < n);
        }
      }),
      { seed },
    );
  });

  it("deriveSeed keeps run 0's seed and spreads the others", () => {
    assert.equal(deriveSeed(42, 0), 42);
    assert.equal(new Set(Array.from({ length: 100 }, (_, k) => deriveSeed(42, k))).size, 100);
  });
});
