// Byte-level mutations for the HTTP API's fuzz target (an async target, run against a live
// toolstack, so it is not in the synchronous registry of `xensim fuzz`): seeded and reproducible —
// flips, interesting values in either byte order, inserts, deletes, duplicated and spliced chunks,
// truncation, random bytes.

const INTERESTING = [
  0, 1, 2, 7, 8, 11, 12, 255, 256, 511, 512, 4095, 4096, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
  0xffffffff,
];

export function mutate(
  base: Uint8Array,
  seeds: readonly Uint8Array[],
  maxLength: number,
  rnd: () => number,
): Uint8Array {
  let b = base.slice();
  const int = (n: number) => Math.floor(rnd() * n);
  const steps = 1 + int(6);
  for (let s = 0; s < steps; s++) {
    const n = b.length;
    switch (int(10)) {
      case 0:
        if (n) {
          const at = int(n);
          b[at] = b[at]! ^ (1 << int(8));
        }
        break;
      case 1:
        if (n) b[int(n)] = [0, 1, 0x7f, 0x80, 0xff, int(256)][int(6)]!;
        break;
      case 2:
        if (n >= 4) {
          const v = INTERESTING[int(INTERESTING.length)]!;
          new DataView(b.buffer, b.byteOffset).setUint32(int(n - 3), v >>> 0, rnd() < 0.5);
        }
        break;
      case 3: {
        const ins = new Uint8Array(1 + int(32)).map(() => int(256));
        const at = int(n + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 4:
        if (n) {
          const at = int(n);
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1 + int(64))]);
        }
        break;
      case 5:
        if (n) {
          const from = int(n);
          const chunk = b.subarray(from, from + 1 + int(256));
          const at = int(n + 1);
          b = Uint8Array.from([...b.subarray(0, at), ...chunk, ...b.subarray(at)]);
        }
        break;
      case 6: {
        const o = seeds[int(seeds.length)]!;
        if (o.length) {
          const from = int(o.length);
          const chunk = o.subarray(from, from + 1 + int(512));
          const at = int(n + 1);
          b = Uint8Array.from([...b.subarray(0, at), ...chunk, ...b.subarray(at + chunk.length)]);
        }
        break;
      }
      case 7:
        b = b.subarray(0, int(n + 1)).slice();
        break;
      case 8:
        if (n >= 2) {
          const v = INTERESTING[int(INTERESTING.length)]!;
          new DataView(b.buffer, b.byteOffset).setUint16(int(n - 1), v & 0xffff, rnd() < 0.5);
        }
        break;
      default:
        if (rnd() < 0.05) b = new Uint8Array(int(256)).map(() => int(256));
        break;
    }
  }
  return b.length > maxLength ? b.subarray(0, maxLength) : b;
}
