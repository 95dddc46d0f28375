// Range sets against a reference model (a set of integers over a small domain), and the shared-memory
// lookup against the array form (fast-check prints the seed and the shrunk counterexample on failure).

import assert from "node:assert/strict";
import { test } from "node:test";
import { XenErrno } from "@xensim/abi";
import fc from "fast-check";
import { loadRanges, RangeSet, sharedContains, storeRanges, U64_MAX } from "./rangeset.js";

const D = 64;
type Op = { add: boolean; s: number; e: number };
const opArb: fc.Arbitrary<Op> = fc
  .record({ add: fc.boolean(), a: fc.nat({ max: D - 1 }), b: fc.nat({ max: D - 1 }) })
  .map(({ add, a, b }) => ({ add, s: Math.min(a, b), e: Math.max(a, b) }));

function check(set: RangeSet, model: Set<number>): void {
  // Sorted, disjoint, never adjacent (rangeset merges touching ranges).
  set.ranges.forEach((r, i) => {
    assert.ok(r.start <= r.end);
    if (i > 0) assert.ok(set.ranges[i - 1]!.end + 1n < r.start, "disjoint and not adjacent");
  });
  for (let x = 0; x < D; x++) assert.equal(set.containsSingleton(BigInt(x)), model.has(x), `member ${x}`);
}

test("add and remove match the integer-set model; contains/overlaps agree with it", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(opArb, { maxLength: 20 }), (ops, queries) => {
      const set = new RangeSet([], 1000);
      const model = new Set<number>();
      for (const { add, s, e } of ops) {
        assert.equal(add ? set.add(BigInt(s), BigInt(e)) : set.remove(BigInt(s), BigInt(e)), 0);
        for (let x = s; x <= e; x++) {
          if (add) model.add(x);
          else model.delete(x);
        }
        check(set, model);
      }
      for (const { s, e } of queries) {
        let all = true;
        let any = false;
        for (let x = s; x <= e; x++) {
          all &&= model.has(x);
          any ||= model.has(x);
        }
        assert.equal(set.containsRange(BigInt(s), BigInt(e)), all);
        assert.equal(set.overlapsRange(BigInt(s), BigInt(e)), any);
      }
    }),
  );
});

test("the limit: a new range past it or a split past it is -ENOMEM and changes nothing; merging is free", () => {
  const set = new RangeSet([], 3);
  for (const s of [0n, 10n, 20n]) assert.equal(set.add(s, s + 1n), 0);
  assert.equal(set.add(30n, 31n), -XenErrno.ENOMEM);
  assert.equal(set.add(2n, 9n), 0, "fills the gap: merges into one range");
  assert.equal(set.count, 2);
  assert.equal(set.add(40n, 41n), 0);
  assert.equal(set.remove(5n, 5n), -XenErrno.ENOMEM, "no room to split [0, 11]");
  assert.equal(set.remove(15n, 15n), 0, "removing what is not there is fine");
  assert.deepEqual(set.ranges, [
    { start: 0n, end: 11n },
    { start: 20n, end: 21n },
    { start: 40n, end: 41n },
  ]);
  assert.equal(set.remove(0n, 21n), 0);
  assert.equal(set.count, 1);
});

test("u64 bounds: [0, 2^64 − 1] and ranges at the top", () => {
  const set = new RangeSet();
  assert.equal(set.add(U64_MAX - 1n, U64_MAX), 0);
  assert.equal(set.add(0n, 0n), 0);
  assert.ok(set.containsSingleton(U64_MAX));
  assert.equal(set.add(1n, U64_MAX - 2n), 0);
  assert.deepEqual(set.ranges, [{ start: 0n, end: U64_MAX }]);
  assert.equal(set.remove(U64_MAX, U64_MAX), 0);
  assert.ok(!set.containsSingleton(U64_MAX));
});

test("shared-memory lookup equals the array form for any u64 ranges and queries", () => {
  const u64 = fc.oneof(
    fc.bigInt({ min: 0n, max: U64_MAX }),
    fc.bigInt({ min: 0n, max: 0xffffn }),
    fc.bigInt({ min: U64_MAX - 0xffffn, max: U64_MAX }),
  );
  const pair = fc.tuple(u64, u64).map(([a, b]) => (a <= b ? [a, b] : [b, a]) as [bigint, bigint]);
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 30 }), fc.array(pair, { maxLength: 30 }), (adds, queries) => {
      const set = new RangeSet();
      for (const [s, e] of adds) set.add(s, e);
      const i32 = new Int32Array(new SharedArrayBuffer(4096));
      const n = storeRanges(i32, 0, set);
      assert.deepEqual(loadRanges(i32, 0, n).ranges, set.ranges);
      const split = (v: bigint) => [Number(v >> 32n) | 0, Number(v & 0xffff_ffffn) | 0] as const;
      for (const [s, e] of [...queries, ...set.ranges.map((r) => [r.start, r.end] as [bigint, bigint])]) {
        const [sh, sl] = split(s);
        const [eh, el] = split(e);
        assert.equal(sharedContains(i32, 0, n, sh, sl, eh, el), set.containsRange(s, e));
      }
    }),
  );
});
