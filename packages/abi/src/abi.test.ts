// Differential test against Xen's own headers (STYLE.md item 13): every constant and layout of this
// package is compiled as a C expression with gcc against /usr/include/xen and compared.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as abi from "./index.js";
import { generateHeaderCheck } from "./header-check/cgen.js";
import { compareHeaderCheck, formatMismatches } from "./header-check/compare.js";
import {
  buildHeaderCheckSpec,
  exportedLeaves,
  notCheckedReason,
  type HeaderCheck,
} from "./header-check/spec.js";
import { runHeaderCheck, readHeaderCheckObject, headerCheckUnavailable } from "./testing/gcc.js";

const checks = buildHeaderCheckSpec();

describe("ring size arithmetic (fact sheet §1.2)", () => {
  test("blkif RING_SIZE for 1..64 pages", () => {
    const table: [number, number][] = [
      [1, 32],
      [2, 64],
      [4, 128],
      [8, 256],
      [16, 512],
      [32, 1024],
      [64, 2048],
    ];
    for (const [pages, slots] of table) {
      assert.equal(abi.blkifRingSize(pages, "x86_64"), slots, `x86_64, ${pages} pages`);
      assert.equal(abi.blkifRingSize(pages, "x86_32"), slots, `x86_32, ${pages} pages`);
      assert.equal(abi.ringSize(pages * 4096, 112), slots);
    }
    assert.equal(Math.floor((16384 - 64) / 112), 145);
  });
  test("displif: 32 ring slots, 63 event slots", () => {
    assert.equal(abi.XENDISPL_RING_SIZE, 32);
    assert.equal(abi.XENDISPL_IN_RING_LEN, 63);
    assert.equal(abi.xendisplInRingOffset(2 ** 32 - 1), 64 + ((2 ** 32 - 1) % 63) * 64);
    assert.equal(abi.xendisplInRingOffset(63), 64);
  });
  test("rd32 keeps the highest set bit of the low 32 bits", () => {
    assert.equal(abi.rd32(0), 0);
    assert.equal(abi.rd32(1), 1);
    assert.equal(abi.rd32(2340), 2048);
    assert.equal(abi.rd32(0xffffffff), 0x80000000);
    assert.equal(abi.rd32(2 ** 32 + 5), 4);
    assert.throws(() => abi.rd32(-1), RangeError);
    assert.throws(() => abi.ringSize(63, 112), RangeError);
  });
});

describe("bit fields and helpers", () => {
  test("ioreq flags byte round-trips through readBits/writeBits", () => {
    const page = new Uint8Array(32);
    abi.writeBits(page, 0, abi.IOREQ_BITS.state, abi.STATE_IOREQ_READY);
    abi.writeBits(page, 0, abi.IOREQ_BITS.dir, abi.IOREQ_READ);
    abi.writeBits(page, 0, abi.IOREQ_BITS.data_is_ptr, 1);
    assert.equal(page[abi.IOREQ_LAYOUT.flags], 0x31);
    assert.equal(abi.readBits(page, 0, abi.IOREQ_BITS.state), 1);
    assert.equal(abi.IOREQ_LAYOUT.flags, abi.IOREQ_BITS.state.byte);
  });
  test("buf_ioreq word packs type | dir<<9 | size<<10 | addr<<12", () => {
    const b = new Uint8Array(8);
    abi.writeBits(b, 0, abi.BUF_IOREQ_BITS.type, abi.IOREQ_TYPE_COPY);
    abi.writeBits(b, 0, abi.BUF_IOREQ_BITS.dir, 1);
    abi.writeBits(b, 0, abi.BUF_IOREQ_BITS.size, 2);
    abi.writeBits(b, 0, abi.BUF_IOREQ_BITS.addr, 0xfffff);
    const word = new DataView(b.buffer).getUint32(0, true);
    assert.equal(word, (1 | (1 << 9) | (2 << 10) | (0xfffff << 12)) >>> 0);
    assert.equal(abi.readBits(b, 0, abi.BUF_IOREQ_BITS.addr), 0xfffff);
    assert.equal(abi.bufIoreqSlotOffset(511), 8);
  });
  test("names and protocol strings", () => {
    assert.equal(abi.gntstMessage(abi.GNTST_bad_gntref), "invalid grant reference");
    assert.equal(abi.gntstName(-13), "no_space");
    assert.equal(abi.xenbusStateName(abi.XenbusState.InitWait), "InitWait");
    assert.equal(abi.parseXenbusState("4"), abi.XenbusState.Connected);
    assert.equal(abi.parseXenbusState("9"), undefined);
    assert.equal(abi.abiOfProtocol("x86_32-abi"), "x86_32");
    assert.equal(abi.xenErrnoName(-11), "EAGAIN");
    assert.equal(abi.isRealDomid(abi.DOMID_SELF), false);
  });
});

test("every exported constant and layout is checked or listed in NOT_CHECKED", () => {
  const paths = checks.map((c) => c.path);
  const covered = (leaf: string) => paths.some((p) => leaf === p || leaf.startsWith(`${p}.`));
  const missing = exportedLeaves().filter((l) => !covered(l) && notCheckedReason(l) === undefined);
  assert.deepEqual(missing, [], `exports without a header check: ${missing.join(", ")}`);
  const dup = paths.filter((p, i) => paths.indexOf(p) !== i);
  assert.deepEqual(dup, [], "duplicate header check paths");
});

function checkHeaders(abiName: abi.XenAbi, list: readonly HeaderCheck[]) {
  const unit = generateHeaderCheck(abiName, list);
  const values = abiName === "x86_64" ? runHeaderCheck(unit) : readHeaderCheckObject(unit);
  return { unit, values, mismatches: compareHeaderCheck(unit, values) };
}

for (const a of abi.XEN_ABIS) {
  describe(`header check against /usr/include/xen (${a})`, () => {
    const why = headerCheckUnavailable(a);
    test(`all ${a} values agree with gcc`, { skip: why }, () => {
      const { unit, mismatches } = checkHeaders(a, checks);
      const n = unit.nums.length + unit.bits.length + unit.strs.length;
      console.log(
        `header check ${a}: ${n} checks (${unit.nums.length} numbers, ${unit.bits.length} bit fields, ${unit.strs.length} strings)`,
      );
      assert.ok(n > 100);
      assert.equal(mismatches.length, 0, formatMismatches(a, mismatches));
    });
    test(`a wrong TS value is caught (${a})`, { skip: why }, () => {
      const bad: HeaderCheck[] = checks.map((c) => {
        if (c.kind === "num" && c.path === `BLKIF_REQUEST_LAYOUT.${a}.sector_number`)
          return { ...c, expected: c.expected + 1n };
        if (c.kind === "bits" && c.path === "BUF_IOREQ_BITS.addr")
          return { ...c, expected: { byte: 1, shift: 4, width: 19 } };
        if (c.kind === "str" && c.path === "GNTTABOP_ERROR_MSGS[3]")
          return { ...c, expected: "invalid grant ref" };
        return c;
      });
      const { mismatches } = checkHeaders(a, bad);
      const want = [`BLKIF_REQUEST_LAYOUT.${a}.sector_number`, "BUF_IOREQ_BITS.addr"];
      if (a === "x86_64") want.push("GNTTABOP_ERROR_MSGS[3]");
      assert.deepEqual(mismatches.map((m) => m.path).sort(), want.sort());
    });
    if (a === "x86_64") {
      test("object-file extraction agrees with the executed program", { skip: why }, () => {
        const unit = generateHeaderCheck(a, checks);
        const ran = runHeaderCheck(unit);
        const read = readHeaderCheckObject(unit);
        assert.deepEqual(read.nums, ran.nums);
        assert.deepEqual(
          read.bits.map((b) => Buffer.from(b).toString("hex")),
          ran.bits.map((b) => Buffer.from(b).toString("hex")),
        );
      });
    }
  });
}
