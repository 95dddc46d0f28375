// Inputs for a target as fast-check arbitraries: a golden seed with a stack of byte-level mutations
// (AFL/libFuzzer style: flips, interesting values, little-endian u32 words at aligned offsets,
// inserts, deletes, duplicated or spliced chunks, truncation), or plain random bytes.

import fc from "fast-check";

/** Values that break parsers: zero, one, sign bits, the xs/ring limits and their neighbours. */
const INTERESTING_U32 = [
  0, 1, 2, 15, 16, 17, 1023, 1024, 1025, 2047, 2048, 4095, 4096, 4097, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0x80000001, 0xfffffbff, 0xfffffc00, 0xfffffffe, 0xffffffff,
];
const INTERESTING_U8 = [0, 1, 0x2f, 0x40, 0x7f, 0x80, 0xfe, 0xff];

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "byte"; at: number; value: number }
  | { kind: "u32"; at: number; value: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; len: number }
  | { kind: "duplicate"; at: number; len: number; to: number }
  | { kind: "splice"; at: number; other: number; from: number; len: number }
  | { kind: "truncate"; at: number };

const position = fc.nat({ max: 0xffff });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({
    kind: fc.constant("byte" as const),
    at: position,
    value: fc.oneof(fc.constantFrom(...INTERESTING_U8), fc.nat({ max: 255 })),
  }),
  fc.record({
    kind: fc.constant("u32" as const),
    at: position,
    value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 0xffffffff })),
  }),
  fc.record({ kind: fc.constant("insert" as const), at: position, bytes: fc.uint8Array({ maxLength: 32 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: position, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: position,
    len: fc.integer({ min: 1, max: 256 }),
    to: position,
  }),
  fc.record({
    kind: fc.constant("splice" as const),
    at: position,
    other: fc.nat(),
    from: position,
    len: fc.integer({ min: 1, max: 512 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: position }),
);

function applyMutation(
  input: Uint8Array,
  m: Mutation,
  seeds: readonly Uint8Array[],
  maxLength: number,
): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : m.at % n;
  switch (m.kind) {
    case "flip": {
      if (n === 0) return input;
      const out = input.slice();
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case "byte": {
      if (n === 0) return Uint8Array.of(m.value);
      const out = input.slice();
      out[at] = m.value;
      return out;
    }
    case "u32": {
      if (n < 4) return input;
      const out = input.slice();
      const off = Math.min(at & ~3, n - 4);
      new DataView(out.buffer).setUint32(off, m.value >>> 0, true);
      return out;
    }
    case "insert": {
      const pos = m.at % (n + 1);
      const out = new Uint8Array(n + m.bytes.length);
      out.set(input.subarray(0, pos), 0);
      out.set(m.bytes, pos);
      out.set(input.subarray(pos), pos + m.bytes.length);
      return out;
    }
    case "delete": {
      if (n === 0) return input;
      const out = new Uint8Array(n - Math.min(m.len, n - at));
      out.set(input.subarray(0, at), 0);
      out.set(input.subarray(at + m.len), at);
      return out;
    }
    case "duplicate": {
      if (n === 0) return input;
      const chunk = input.subarray(at, at + m.len);
      const pos = m.to % (n + 1);
      const out = new Uint8Array(n + chunk.length);
      out.set(input.subarray(0, pos), 0);
      out.set(chunk, pos);
      out.set(input.subarray(pos), pos + chunk.length);
      return out;
    }
    case "splice": {
      const other = seeds[m.other % seeds.length];
      if (!other || other.length === 0) return input;
      const from = m.from % other.length;
      const chunk = other.subarray(from, from + m.len);
      const pos = m.at % (n + 1);
      const out = new Uint8Array(pos + chunk.length);
      out.set(input.subarray(0, pos), 0);
      out.set(chunk, pos);
      return out;
    }
    case "truncate":
      return input.subarray(0, at);
  }
  return input.length > maxLength ? input.subarray(0, maxLength) : input;
}

/** A seed (or several seeds back to back) with up to 8 stacked mutations, or random bytes. */
export function fuzzInputs(seeds: readonly Uint8Array[], maxLength: number): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: Math.min(maxLength, 512) });
  if (seeds.length === 0) return random;
  const base = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...seeds) },
    {
      weight: 1,
      arbitrary: fc.array(fc.constantFrom(...seeds), { minLength: 2, maxLength: 6 }).map((parts) => {
        const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
        let off = 0;
        for (const p of parts) {
          out.set(p, off);
          off += p.length;
        }
        return out;
      }),
    },
  );
  const mutated = fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 8 })).map(([input, ms]) => {
    let out = input;
    for (const m of ms) out = applyMutation(out, m, seeds, maxLength);
    return out.length > maxLength ? out.slice(0, maxLength) : out;
  });
  return fc.oneof(
    { weight: 8, arbitrary: mutated },
    { weight: 1, arbitrary: random },
    { weight: 1, arbitrary: base },
  );
}
