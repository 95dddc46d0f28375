// blkif-request: a blkif ring slot (and its indirect pages) decoded and validated as blkback does;
// an accepted request must lie inside the disk, within its pages and within the segment limits.
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_RSP_OKAY,
  BlkifOp,
  type XenAbi,
} from "@xensim/abi";
import {
  BLOCK_SECTOR_BYTES,
  type BlkifLimits,
  decodeIndirectSegments,
  decodeRequest,
  encodeIndirectSegments,
  encodeRequest,
  newBlkifRequest,
  newSegments,
  setRequestSector,
  validateIndirectSegments,
  validateRequest,
} from "@xensim/blkif";
import type { FuzzTarget } from "../target.js";
import { must } from "../invariant.js";

const PAGE = 4096;

/**
 * Input: byte 0 = settings (bit 0: x86_32 ABI; bit 1: indirect descriptors offered (256); bit 2:
 * read-only disk; bit 3: discard), bytes 1..4 = disk size in sectors (LE, at least 8), then one ring
 * slot, then up to 8 indirect pages.
 */
function blkifSetup(input: Uint8Array) {
  const s = input[0] ?? 0;
  const abi: XenAbi = s & 1 ? "x86_32" : "x86_64";
  const sectors =
    Math.max(
      8,
      (input[1] ?? 0) | ((input[2] ?? 0) << 8) | ((input[3] ?? 0) << 16) | ((input[4] ?? 0) << 24),
    ) >>> 0;
  const limits: BlkifLimits = {
    sectors,
    readonly: (s & 4) !== 0,
    maxIndirectSegments: s & 2 ? 256 : 0,
    flush: true,
    barrier: true,
    discard: (s & 8) !== 0,
    discardSecure: false,
  };
  const E = BLKIF_RING_ENTRY_BYTES[abi];
  const slot = new Uint8Array(E);
  slot.set(input.subarray(5, 5 + E));
  const pages = input.subarray(5 + E);
  return { abi, limits, slot, pages };
}

const blkifReq = newBlkifRequest();
const blkifSegs = newSegments(4096);

export const blkifRequestTarget: FuzzTarget = {
  name: "blkif-request",
  description: "a blkif ring slot (+ indirect pages) decoded and validated as blkback does",
  corpusDir: "packages/blkif/src/fuzz-corpus/blkif-request",
  maxLength: 5 + 112 + 8 * PAGE,
  seeds() {
    const out: Uint8Array[] = [];
    const add = (
      settings: number,
      sectors: number,
      abi: XenAbi,
      build: (r: ReturnType<typeof newBlkifRequest>) => void,
      indirect?: Uint8Array,
    ) => {
      const r = newBlkifRequest();
      build(r);
      const E = BLKIF_RING_ENTRY_BYTES[abi];
      const b = new Uint8Array(5 + E + (indirect?.length ?? 0));
      b[0] = settings;
      new DataView(b.buffer).setUint32(1, sectors, true);
      encodeRequest(b.subarray(5, 5 + E), 0, abi, r);
      if (indirect) b.set(indirect, 5 + E);
      out.push(b);
    };
    for (const abi of ["x86_64", "x86_32"] as const) {
      const a = abi === "x86_32" ? 1 : 0;
      add(a, 2048, abi, (r) => {
        r.operation = BlkifOp.READ;
        r.nrSegments = 2;
        setRequestSector(r, 8);
        r.segments[0]!.gref = 8;
        r.segments[0]!.lastSect = 7;
        r.segments[1]!.gref = 9;
        r.segments[1]!.firstSect = 2;
        r.segments[1]!.lastSect = 3;
      });
      add(a, 2048, abi, (r) => {
        r.operation = BlkifOp.WRITE;
        r.nrSegments = BLKIF_MAX_SEGMENTS_PER_REQUEST;
        for (let i = 0; i < r.nrSegments; i++) {
          r.segments[i]!.gref = 100 + i;
          r.segments[i]!.lastSect = 7;
        }
      });
      add(a | 8, 2048, abi, (r) => {
        r.operation = BlkifOp.DISCARD;
        setRequestSector(r, 16);
        r.nrSectorsLo = 64;
      });
      add(a, 2048, abi, (r) => {
        r.operation = BlkifOp.FLUSH_DISKCACHE;
      });
      const segs = newSegments(40);
      for (let i = 0; i < 40; i++) {
        segs[i]!.gref = 300 + i;
        segs[i]!.lastSect = 7;
      }
      const page = new Uint8Array(PAGE);
      encodeIndirectSegments(page, 0, 0, segs, 0, 40);
      add(
        a | 2,
        4096,
        abi,
        (r) => {
          r.operation = BlkifOp.INDIRECT;
          r.indirectOp = BlkifOp.WRITE;
          r.nrSegments = 40;
          r.indirectGrefs[0] = 77;
        },
        page,
      );
    }
    return out;
  },
  run(input) {
    const { abi, limits, slot, pages } = blkifSetup(input);
    const req = decodeRequest(slot, 0, abi, blkifReq);
    const v = validateRequest(req, limits);
    if (v.status !== BLKIF_RSP_OKAY) {
      must(typeof v.reason === "string" && v.reason.length > 0, "a refusal names its reason");
      return;
    }
    const op = req.operation;
    if (op === BlkifOp.DISCARD) {
      const n = req.nrSectorsHi * 0x1_0000_0000 + req.nrSectorsLo;
      const sector = req.sectorHi * 0x1_0000_0000 + req.sectorLo;
      must(limits.discard && !limits.readonly, "discard accepted only when offered on a writable disk");
      // an empty range is not checked (Linux xen_vbd_translate checks the end only when nr_sects > 0)
      if (n > 0) must(sector + n <= limits.sectors, "an accepted discard lies inside the disk");
      return;
    }
    let segs = req.segments;
    const n = req.nrSegments;
    let dataOp = op;
    if (op === BlkifOp.INDIRECT) {
      must(limits.maxIndirectSegments > 0, "indirect accepted only when offered");
      dataOp = req.indirectOp;
      const nPages = Math.ceil(n / 512);
      const buf = new Uint8Array(nPages * PAGE);
      buf.set(pages.subarray(0, buf.length));
      for (let k = 0; k < nPages; k++)
        decodeIndirectSegments(buf, k * PAGE, 0, Math.min(512, n - k * 512), blkifSegs, k * 512);
      const iv = validateIndirectSegments(req, blkifSegs, limits);
      if (iv.status !== BLKIF_RSP_OKAY) return;
      segs = blkifSegs;
      must(n <= limits.maxIndirectSegments, "no more indirect segments than offered");
    } else {
      must(n <= BLKIF_MAX_SEGMENTS_PER_REQUEST, "at most 11 direct segments");
    }
    if (n === 0) {
      must(
        dataOp === BlkifOp.FLUSH_DISKCACHE || dataOp === BlkifOp.WRITE_BARRIER,
        "only a flush has no segment",
      );
      return;
    }
    if (dataOp !== BlkifOp.READ) must(!limits.readonly, "no write to a read-only disk");
    let total = 0;
    for (let i = 0; i < n; i++) {
      const s = segs[i]!;
      must(
        s.firstSect <= s.lastSect && s.lastSect < PAGE / BLOCK_SECTOR_BYTES,
        `segment ${i} within its page`,
      );
      total += s.lastSect - s.firstSect + 1;
    }
    const sector = req.sectorHi * 0x1_0000_0000 + req.sectorLo;
    must(sector + total <= limits.sectors, "an accepted request lies inside the disk");
  },
};
