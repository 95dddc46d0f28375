import assert from "node:assert/strict";
import { test } from "node:test";
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp } from "@xensim/abi";
import fc from "fast-check";
import {
  type BlkifRequest,
  decodeRequest,
  encodeRequest,
  newBlkifRequest,
  newSegments,
  setDiscardSectors,
  setRequestSector,
} from "./codec.js";
import {
  type BlkifLimits,
  discardIsSecure,
  segmentSectors,
  validateIndirectSegments,
  validateRequest,
} from "./validate.js";

const LIMITS: BlkifLimits = {
  sectors: 1000,
  readonly: false,
  maxIndirectSegments: 256,
  flush: true,
  barrier: true,
  discard: true,
  discardSecure: false,
};

interface Spec {
  op: number;
  nseg?: number;
  sector?: number | bigint;
  segs?: [number, number][];
  indirectOp?: number;
  nrSectors?: number | bigint;
  flag?: number;
}

function req(s: Spec): BlkifRequest {
  const r = newBlkifRequest();
  r.operation = s.op;
  setRequestSector(r, s.sector ?? 0);
  const segs = s.segs ?? [[0, 7]];
  r.nrSegments = s.nseg ?? segs.length;
  segs
    .slice(0, 11)
    .forEach(([f, l], i) => Object.assign(r.segments[i]!, { gref: 10 + i, firstSect: f, lastSect: l }));
  if (s.indirectOp !== undefined) r.indirectOp = s.indirectOp;
  if (s.nrSectors !== undefined) setDiscardSectors(r, s.nrSectors);
  if (s.flag !== undefined) r.flag = s.flag;
  return r;
}

const OK = BLKIF_RSP_OKAY;
const ERR = BLKIF_RSP_ERROR;
const NOTSUP = BLKIF_RSP_EOPNOTSUPP;

// (name, request, limits override, expected status, reason fragment) — fact sheet §2.3.
const TABLE: [string, Spec, Partial<BlkifLimits>, number, string?][] = [
  ["read, one full page", { op: BlkifOp.READ }, {}, OK],
  ["write, 11 segments", { op: BlkifOp.WRITE, segs: Array(11).fill([0, 7]) }, {}, OK],
  ["write ending exactly at the device end", { op: BlkifOp.WRITE, sector: 992 }, {}, OK],
  ["unknown operation 7", { op: 7 }, {}, NOTSUP, "unknown operation"],
  ["reserved op 4 (SLES private)", { op: BlkifOp.RESERVED_1 }, {}, NOTSUP, "unknown operation"],
  ["operation 255", { op: 255 }, {}, NOTSUP, "unknown operation"],
  ["read with nr_segments 0", { op: BlkifOp.READ, segs: [] }, {}, ERR, "segments"],
  ["write with nr_segments 0", { op: BlkifOp.WRITE, segs: [] }, {}, ERR, "segments"],
  [
    "write with nr_segments 12",
    { op: BlkifOp.WRITE, nseg: 12, segs: Array(11).fill([0, 7]) },
    {},
    ERR,
    "segments",
  ],
  ["read with nr_segments 255", { op: BlkifOp.READ, nseg: 255 }, {}, ERR, "segments"],
  ["flush with 0 segments", { op: BlkifOp.FLUSH_DISKCACHE, segs: [] }, {}, OK],
  ["barrier with 0 segments", { op: BlkifOp.WRITE_BARRIER, segs: [] }, {}, OK],
  ["barrier with data", { op: BlkifOp.WRITE_BARRIER, segs: [[0, 7]] }, {}, OK],
  ["flush not advertised", { op: BlkifOp.FLUSH_DISKCACHE, segs: [] }, { flush: false }, NOTSUP, "flush"],
  ["barrier not advertised", { op: BlkifOp.WRITE_BARRIER, segs: [] }, { barrier: false }, NOTSUP, "barrier"],
  ["last_sect < first_sect", { op: BlkifOp.READ, segs: [[3, 2]] }, {}, ERR, "last_sect"],
  ["last_sect 8", { op: BlkifOp.READ, segs: [[0, 8]] }, {}, ERR, "last_sect"],
  [
    "last_sect 255 in segment 5",
    {
      op: BlkifOp.WRITE,
      segs: [
        [0, 7],
        [0, 7],
        [0, 7],
        [0, 7],
        [0, 7],
        [0, 255],
      ],
    },
    {},
    ERR,
    "segment 5",
  ],
  ["first_sect = last_sect = 7", { op: BlkifOp.READ, segs: [[7, 7]] }, {}, OK],
  ["read past the end", { op: BlkifOp.READ, sector: 993 }, {}, ERR, "past the end"],
  ["read starting at the end", { op: BlkifOp.READ, sector: 1000, segs: [[0, 0]] }, {}, ERR, "past the end"],
  ["sector 2^64-1 (wraps)", { op: BlkifOp.READ, sector: 2n ** 64n - 1n }, {}, ERR, "past the end"],
  [
    "sector 2^53",
    { op: BlkifOp.READ, sector: 2n ** 53n },
    { sectors: Number.MAX_SAFE_INTEGER },
    ERR,
    "past the end",
  ],
  ["write to read-only", { op: BlkifOp.WRITE }, { readonly: true }, ERR, "read-only"],
  ["read from read-only", { op: BlkifOp.READ }, { readonly: true }, OK],
  [
    "flush on read-only (Linux: a write op)",
    { op: BlkifOp.FLUSH_DISKCACHE, segs: [] },
    { readonly: true },
    ERR,
    "read-only",
  ],
  [
    "misaligned start on 4K sectors",
    { op: BlkifOp.READ, sector: 4 },
    { sectorSize: 4096 },
    ERR,
    "misaligned",
  ],
  [
    "misaligned length on 4K sectors",
    { op: BlkifOp.READ, sector: 8, segs: [[0, 3]] },
    { sectorSize: 4096 },
    ERR,
    "misaligned",
  ],
  ["aligned on 4K sectors", { op: BlkifOp.READ, sector: 8 }, { sectorSize: 4096 }, OK],
  [
    "indirect, indirect_op flush",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.FLUSH_DISKCACHE, nseg: 1 },
    {},
    ERR,
    "indirect operation",
  ],
  [
    "indirect, indirect_op discard",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.DISCARD, nseg: 1 },
    {},
    ERR,
    "indirect operation",
  ],
  [
    "indirect, indirect_op indirect",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.INDIRECT, nseg: 1 },
    {},
    ERR,
    "indirect operation",
  ],
  [
    "indirect with 0 segments",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.READ, nseg: 0 },
    {},
    ERR,
    "segments",
  ],
  [
    "indirect with 257 > 256 advertised",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.WRITE, nseg: 257 },
    {},
    ERR,
    "segments",
  ],
  [
    "indirect 65535 segments",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.WRITE, nseg: 65535 },
    { maxIndirectSegments: 1 << 20 },
    ERR,
    "4096",
  ],
  [
    "indirect when not advertised",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.READ, nseg: 1 },
    { maxIndirectSegments: 0 },
    ERR,
    "segments",
  ],
  [
    "indirect header with 256 segments",
    { op: BlkifOp.INDIRECT, indirectOp: BlkifOp.READ, nseg: 256 },
    {},
    OK,
  ],
  ["discard in range", { op: BlkifOp.DISCARD, sector: 10, nrSectors: 990 }, {}, OK],
  [
    "discard of 0 sectors at any sector",
    { op: BlkifOp.DISCARD, sector: 2n ** 64n - 1n, nrSectors: 0 },
    {},
    OK,
  ],
  ["discard past the end", { op: BlkifOp.DISCARD, sector: 10, nrSectors: 991 }, {}, ERR, "past the end"],
  [
    "discard wrapping u64",
    { op: BlkifOp.DISCARD, sector: 10, nrSectors: 2n ** 64n - 5n },
    {},
    ERR,
    "past the end",
  ],
  ["discard on read-only", { op: BlkifOp.DISCARD, nrSectors: 8 }, { readonly: true }, ERR, "read-only"],
  ["discard not advertised", { op: BlkifOp.DISCARD, nrSectors: 8 }, { discard: false }, NOTSUP, "discard"],
  [
    "secure discard, secure not advertised (Linux: plain discard)",
    { op: BlkifOp.DISCARD, nrSectors: 8, flag: 1 },
    {},
    OK,
  ],
];

for (const [name, spec, over, status, reason] of TABLE) {
  test(`validate: ${name} → ${status}`, () => {
    const v = validateRequest(req(spec), { ...LIMITS, ...over });
    assert.equal(v.status, status, "reason" in v ? v.reason : "okay");
    if (reason !== undefined) {
      assert.ok("reason" in v);
      assert.match(v.reason, new RegExp(reason));
    }
  });
}

test("validate: the same verdicts after an encode → decode through both ABIs", () => {
  for (const abi of ["x86_64", "x86_32"] as const)
    for (const [name, spec, over, status] of TABLE) {
      const r = req(spec);
      if (r.nrSegments > 255 && r.operation !== BlkifOp.INDIRECT) continue;
      const slot = new Uint8Array(112);
      encodeRequest(slot, 0, abi, r);
      const back = decodeRequest(slot, 0, abi, newBlkifRequest());
      assert.equal(validateRequest(back, { ...LIMITS, ...over }).status, status, `${abi}: ${name}`);
    }
});

test("indirect: segments from the descriptor pages are checked like direct ones", () => {
  const r = req({ op: BlkifOp.INDIRECT, indirectOp: BlkifOp.WRITE, nseg: 20, sector: 0 });
  const segs = newSegments(20);
  segs.forEach((s, i) => Object.assign(s, { gref: i, firstSect: 0, lastSect: 7 }));
  assert.equal(validateIndirectSegments(r, segs, LIMITS).status, OK);
  assert.equal(segmentSectors(segs, 20), 160);
  segs[19]!.lastSect = 8;
  assert.equal(validateIndirectSegments(r, segs, LIMITS).status, ERR);
  segs[19]!.lastSect = 7;
  segs[3]!.firstSect = 5;
  segs[3]!.lastSect = 4;
  assert.equal(validateIndirectSegments(r, segs, LIMITS).status, ERR);
  segs[3]!.firstSect = 0;
  // 160 sectors from 900 pass the end of a 1000-sector disk.
  setRequestSector(r, 900);
  assert.match((validateIndirectSegments(r, segs, LIMITS) as { reason: string }).reason, /past the end/);
  setRequestSector(r, 0);
  assert.equal(validateIndirectSegments(r, segs, { ...LIMITS, readonly: true }).status, ERR);
  r.indirectOp = BlkifOp.READ;
  assert.equal(validateIndirectSegments(r, segs, { ...LIMITS, readonly: true }).status, OK);
  assert.equal(validateIndirectSegments(r, segs.slice(0, 5), LIMITS).status, ERR, "too few segments given");
  assert.equal(validateIndirectSegments(req({ op: BlkifOp.READ }), segs, LIMITS).status, ERR, "not indirect");
  r.nrSegments = 300;
  assert.equal(validateIndirectSegments(r, newSegments(300), LIMITS).status, ERR, "header re-checked");
});

test("secure discard only when advertised", () => {
  const r = req({ op: BlkifOp.DISCARD, nrSectors: 8, flag: 1 });
  assert.equal(discardIsSecure(r, LIMITS), false);
  assert.equal(discardIsSecure(r, { ...LIMITS, discardSecure: true }), true);
  r.flag = 0;
  assert.equal(discardIsSecure(r, { ...LIMITS, discardSecure: true }), false);
});

test("validate: any slot bytes give a verdict, never a throw; OKAY implies the Linux invariants (property)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 112, maxLength: 112 }),
      fc.constantFrom("x86_64" as const, "x86_32" as const),
      fc.integer({ min: 0, max: 2000 }),
      fc.boolean(),
      (bytes, abi, sectors, ro) => {
        bytes[0] = bytes[0]! % 9; // mostly known operations
        const r = decodeRequest(bytes, 0, abi, newBlkifRequest());
        const limits = { ...LIMITS, sectors, readonly: ro };
        const v = validateRequest(r, limits);
        assert.ok([OK, ERR, NOTSUP].includes(v.status));
        if (v.status !== OK || r.operation === BlkifOp.INDIRECT) return;
        if (r.operation === BlkifOp.DISCARD) return;
        assert.ok(r.operation <= BlkifOp.FLUSH_DISKCACHE);
        assert.ok(r.nrSegments <= 11);
        let n = 0;
        for (const s of r.segments.slice(0, r.nrSegments)) {
          assert.ok(s.firstSect <= s.lastSect && s.lastSect <= 7);
          n += s.lastSect - s.firstSect + 1;
        }
        if (n > 0) assert.ok(r.sectorHi * 2 ** 32 + r.sectorLo + n <= sectors);
        if (ro) assert.equal(r.operation, BlkifOp.READ);
      },
    ),
    { numRuns: 2000 },
  );
});
