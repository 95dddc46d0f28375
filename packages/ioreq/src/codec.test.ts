// Golden bytes and round trips of the ioreq_t and buf_ioreq codecs (fast-check prints the seed and
// the shrunk counterexample on failure).

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  IOREQ_READ,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_PCI_CONFIG,
  IOREQ_TYPE_PIO,
  IOREQ_TYPE_TIMEOFFSET,
  IOREQ_WRITE,
  STATE_IOREQ_READY,
  STATE_IORESP_READY,
} from "@xensim/abi";
import fc from "fast-check";
import {
  type BufIoreq,
  decodeBufIoreqBytes,
  decodeIoreqBytes,
  encodeBufIoreqBytes,
  encodeIoreqBytes,
  type Ioreq,
  newIoreq,
} from "./codec.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("ioreq_t golden bytes: an `out 0x3f8, al` READY on port 5, and a PCI config read", () => {
  const out = newIoreq({
    addr: 0x3f8n,
    data: 0x41n,
    count: 1,
    size: 1,
    vpEport: 5,
    state: STATE_IOREQ_READY,
    dir: IOREQ_WRITE,
    type: IOREQ_TYPE_PIO,
  });
  // addr | data | count | size | vp_eport | _pad0 | flags (state 1) | type 0
  assert.equal(
    hex(encodeIoreqBytes(out)),
    "f803000000000000" + "4100000000000000" + "01000000" + "01000000" + "05000000" + "0000" + "01" + "00",
  );
  const pci = newIoreq({
    addr: (0x18n << 32n) | 0x10n, // 00:03.0 register 0x10
    data: 0n,
    count: 1,
    size: 4,
    vpEport: 0x1234,
    state: STATE_IORESP_READY,
    dir: IOREQ_READ,
    df: true,
    dataIsPtr: true,
    type: IOREQ_TYPE_PCI_CONFIG,
  });
  // flags: state 3 | data_is_ptr 0x10 | dir 0x20 | df 0x40 = 0x73
  assert.equal(
    hex(encodeIoreqBytes(pci)),
    "1000000018000000" + "0000000000000000" + "01000000" + "04000000" + "34120000" + "0000" + "73" + "02",
  );
  assert.deepEqual(decodeIoreqBytes(encodeIoreqBytes(pci)), pci);
});

const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });
const ioreqArb: fc.Arbitrary<Ioreq> = fc.record({
  addr: u64,
  data: u64,
  count: fc.nat({ max: 0xffffffff }),
  size: fc.nat({ max: 0xffffffff }),
  vpEport: fc.nat({ max: 0xffffffff }),
  state: fc.nat({ max: 15 }),
  dataIsPtr: fc.boolean(),
  dir: fc.constantFrom(IOREQ_READ, IOREQ_WRITE),
  df: fc.boolean(),
  type: fc.nat({ max: 255 }),
});

test("ioreq_t: encode → decode is the identity for every field value", () => {
  fc.assert(
    fc.property(ioreqArb, (r) => {
      const b = encodeIoreqBytes(r);
      assert.equal(b.length, 32);
      assert.deepEqual(decodeIoreqBytes(b), { ...r });
      assert.equal(b[28]! | b[29]!, 0, "_pad0 is written as zero");
      assert.equal(b[30]! & 0x80, 0, "the pad bit is written as zero");
    }),
  );
});

test("buf_ioreq golden bytes: a 4-byte VGA write and the first slot of a TIMEOFFSET", () => {
  const vga: BufIoreq = {
    type: IOREQ_TYPE_COPY,
    dir: IOREQ_WRITE,
    size: 4,
    addr: 0xa0140,
    data: 0x11223344n,
  };
  // word0 = type 1 | dir 0 << 9 | size code 2 << 10 | addr << 12 = 0xa0140801
  assert.equal(hex(encodeBufIoreqBytes(vga)), "010814a0" + "44332211");
  const t: BufIoreq = {
    type: IOREQ_TYPE_TIMEOFFSET,
    dir: IOREQ_WRITE,
    size: 8,
    addr: 0,
    data: 0x1_0000_0005n,
  };
  assert.equal(hex(encodeBufIoreqBytes(t)), "070c0000" + "05000000", "second slot carries the high half");
  assert.throws(() => encodeBufIoreqBytes({ ...vga, size: 3 }), RangeError);
});

test("buf_ioreq: encode → decode keeps type, dir, size, the 20-bit address and the low data word", () => {
  fc.assert(
    fc.property(
      fc.record({
        type: fc.nat({ max: 255 }),
        dir: fc.constantFrom(0, 1),
        size: fc.constantFrom(1, 2, 4, 8),
        addr: fc.nat({ max: 0xfffff }),
        data: fc.bigInt({ min: 0n, max: 0xffff_ffffn }),
      }),
      (b) => assert.deepEqual(decodeBufIoreqBytes(encodeBufIoreqBytes(b)), { ...b }),
    ),
  );
});
