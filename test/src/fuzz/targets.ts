// Fuzz targets for the parsers issue 14 gives this branch: blkif requests (a ring slot and its
// indirect pages, as blkback decodes and validates them), the NBD server's connection state machine,
// and xl.cfg. Each has the shape of the fuzz registry's FuzzTarget (name, description, corpusDir,
// seeds, maxLength, run): run never throws on bad input — a refusal is an answer — and throws only
// for a bug (an exception escaping the parser, or a broken invariant). The HTTP API's target needs
// a running toolstack: http-api.ts.
import {
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_RSP_OKAY,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
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
import { MemoryStore } from "@xensim/blkstore";
import { encodeRequest as encodeNbdRequest, NbdCmd, NbdConnection } from "@xensim/nbd";
import { formatDiskSpec, parseDiskSpec, parseXlCfg } from "@xensim/xlcfg";

/** The fuzz registry's target shape (packages/fuzz FuzzTarget). */
export interface FuzzTarget {
  readonly name: string;
  readonly description: string;
  /** Where crashers are kept as regression cases, relative to the repository root. */
  readonly corpusDir: string;
  seeds(): readonly Uint8Array[];
  readonly maxLength: number;
  run(input: Uint8Array): void;
}

class Invariant extends Error {
  override readonly name = "InvariantBroken";
}
const must = (ok: boolean, what: string): void => {
  if (!ok) throw new Invariant(what);
};

// ---- blkif requests ---------------------------------------------------------------------------

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

// ---- NBD ----------------------------------------------------------------------------------------

function nbdSeeds(): Uint8Array[] {
  const opt = (o: number, data: Uint8Array) => {
    const b = new Uint8Array(16 + data.length);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, 0x49484156454f5054n);
    v.setUint32(8, o);
    v.setUint32(12, data.length);
    b.set(data, 16);
    return b;
  };
  const name = new TextEncoder().encode("d");
  const go = new Uint8Array(4 + name.length + 2);
  new DataView(go.buffer).setUint32(0, name.length);
  go.set(name, 4);
  const flags = Uint8Array.of(0, 0, 0, 3);
  const cat = (...xs: Uint8Array[]) => {
    const out = new Uint8Array(xs.reduce((s, x) => s + x.length, 0));
    let o = 0;
    for (const x of xs) {
      out.set(x, o);
      o += x.length;
    }
    return out;
  };
  const hs = cat(flags, opt(8, new Uint8Array(0)) /* STRUCTURED_REPLY */, opt(7, go) /* GO */);
  const rq = (type: number, offset: number, length: number, cookie: number) =>
    encodeNbdRequest({ type, cookie: BigInt(cookie), offset, length });
  return [
    hs,
    cat(
      hs,
      rq(NbdCmd.READ, 0, 4096, 1),
      rq(NbdCmd.WRITE, 512, 1024, 2),
      new Uint8Array(1024).fill(7),
      rq(NbdCmd.FLUSH, 0, 0, 3),
    ),
    cat(hs, rq(NbdCmd.TRIM, 0, 8192, 4), rq(NbdCmd.WRITE_ZEROES, 100, 3000, 5), rq(NbdCmd.DISC, 0, 0, 6)),
    cat(
      flags,
      opt(3, new Uint8Array(0)) /* LIST */,
      opt(6, go) /* INFO */,
      opt(2, new Uint8Array(0)) /* ABORT */,
    ),
    cat(Uint8Array.of(0, 0, 0, 1), opt(1, name)) /* EXPORT_NAME without NO_ZEROES */,
  ];
}

export const nbdTarget: FuzzTarget = {
  name: "nbd",
  description: "the NBD server's connection state machine (handshake and transmission) over a 1 MiB export",
  corpusDir: "packages/nbd/src/fuzz-corpus/nbd",
  maxLength: 64 * 1024,
  seeds: nbdSeeds,
  run(input) {
    const store = new MemoryStore({ sizeBytes: 1 << 20 });
    let out = 0;
    let closed = false;
    let afterClose = 0;
    const conn = new NbdConnection(
      new Map([["d", store]]),
      {
        send(b) {
          if (closed) afterClose += b.length;
          out += b.length;
        },
        close() {
          closed = true;
        },
      },
      { maxPayload: 256 * 1024 },
    );
    conn.start();
    // fed in pieces cut where the input's own bytes say (partial frames across calls)
    let at = 0;
    let cut = 1;
    while (at < input.length && !closed) {
      const len = 1 + ((input[cut % input.length]! * 31 + cut) % 257);
      conn.feed(input.subarray(at, at + len));
      at += len;
      cut += 7;
    }
    conn.shutdown("fuzz input ended");
    must(afterClose === 0, "nothing sent after close");
    // a reply is bounded by what was asked: at most the payload cap per request, plus headers
    must(out <= 1024 + (input.length / 28 + 1) * (256 * 1024 + 64), "output bounded by the requests");
  },
};

// ---- xl.cfg -------------------------------------------------------------------------------------

const XLCFG_SEEDS = [
  [
    'name = "guest1"',
    'type = "hvm"',
    "memory = 64",
    "vcpus = 2",
    "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=64M', 'xvdb, ro, target=file:path=a.raw,size=8M' ]",
    'on_poweroff = "destroy"',
    'on_reboot = "restart"',
    'on_crash = "preserve"',
    'on_soft_reset = "soft-reset"',
    'xensim_workload = "rw=randrw,bs=4k,iodepth=16,size=32m,runtime=30,verify=crc32c"',
    'xensim_blkfront = "ring-page-order=4,queues=4"',
  ].join("\n"),
  'name="a"\nmemory=8\ndisk=["vdev=xvdz, target=array:profile=iscsi-array,size=1G,seed=7,data=null"]\n',
  "# comment\nname = 'b' # trailing\nmaxmem = 16\nmemory = 8\nuuid = \"1b4e28ba-2fa1-11d2-883f-0016d3cca427\"\n",
  'name = "c"\nmemory = 8\ndisk = [ "/img/x.raw,raw,xvdc,w", "vdev=xvdd, devtype=cdrom, target=" ]\nbogus = [1, "x", [2]]\n',
].map((s) => new TextEncoder().encode(s));

export const xlcfgTarget: FuzzTarget = {
  name: "xlcfg",
  description: "xl.cfg files (xl.cfg(5), xl-disk-configuration(5)) as the toolstack parses them",
  corpusDir: "packages/xlcfg/src/fuzz-corpus/xlcfg",
  maxLength: 16 * 1024,
  seeds: () => XLCFG_SEEDS,
  run(input) {
    const text = new TextDecoder("utf-8", { fatal: false }).decode(input);
    const r = parseXlCfg(text, { file: "fuzz.cfg", maxMemoryMib: 4096 });
    if (!r.ok) {
      must(r.errors.length > 0, "a refusal has errors");
      for (const e of r.errors)
        must(e.line >= 1 && e.column >= 1 && e.message.length > 0, "errors carry positions");
      return;
    }
    must(r.config.name.length > 0, "a config has a name");
    for (const d of r.config.disks) {
      const again = parseDiskSpec(formatDiskSpec(d));
      must("disk" in again, `disk ${d.vdev} formats to a spec that parses`);
      if ("disk" in again)
        must(JSON.stringify(again.disk) === JSON.stringify(d), `disk ${d.vdev} round-trips`);
    }
  },
};

export const TARGETS: readonly FuzzTarget[] = [blkifRequestTarget, nbdTarget, xlcfgTarget];
