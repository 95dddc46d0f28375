// Differential test against the real header: gcc compiles /usr/include/xen/io/blkif.h for -m64 and
// -m32 with initialised structs (request, discard, indirect, segment, response) holding the same
// values our encoder writes; the object file's section bytes must equal ours byte for byte.
// x86_32 is compiled freestanding (no 32-bit libc needed) and read back with objcopy.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BlkifOp, type XenAbi } from "@xensim/abi";
import {
  type BlkifRequest,
  encodeIndirectSegments,
  encodeRequest,
  encodeResponse,
  newBlkifRequest,
  requestBytes,
} from "./codec.js";

const N = 24;

/** Deterministic values (an LCG: no randomness needed for a differential run). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
}

interface Case {
  req: BlkifRequest;
  disc: BlkifRequest;
  ind: BlkifRequest;
  rsp: [number, number, number, number];
}

function cases(): Case[] {
  const r = lcg(0xb10c);
  const out: Case[] = [];
  for (let i = 0; i < N; i++) {
    const req = newBlkifRequest();
    req.operation = r() % 4;
    req.nrSegments = r() % 12;
    req.handle = r() & 0xffff;
    req.idLo = r();
    req.idHi = i % 3 === 0 ? 0 : r();
    req.sectorLo = r();
    req.sectorHi = r();
    for (const s of req.segments)
      Object.assign(s, { gref: r(), firstSect: r() & 0xff, lastSect: r() & 0xff });
    const disc = newBlkifRequest();
    disc.operation = BlkifOp.DISCARD;
    disc.flag = r() & 0xff;
    disc.handle = r() & 0xffff;
    disc.idLo = r();
    disc.idHi = r();
    disc.sectorLo = r();
    disc.sectorHi = r();
    disc.nrSectorsLo = r();
    disc.nrSectorsHi = r();
    const ind = newBlkifRequest();
    ind.operation = BlkifOp.INDIRECT;
    ind.indirectOp = r() & 0xff;
    ind.nrSegments = r() & 0xffff;
    ind.handle = r() & 0xffff;
    ind.idLo = r();
    ind.idHi = r();
    ind.sectorLo = r();
    ind.sectorHi = r();
    for (let k = 0; k < 8; k++) ind.indirectGrefs[k] = r();
    out.push({ req, disc, ind, rsp: [r(), r(), r() & 0xff, (r() & 0xffff) - 0x8000] });
  }
  return out;
}

const u64 = (lo: number, hi: number) => `0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}ULL`;

function cSource(cs: Case[]): string {
  const L = [
    "#include <stdint.h>",
    "#include <stddef.h>",
    "#include <xen/xen.h>",
    "#include <xen/io/ring.h>",
    "#include <xen/io/blkif.h>",
  ];
  const sec = (name: string) => `__attribute__((section(".xs_${name}"), used))`;
  const rw = cs.map(({ req: q }) => {
    const segs = q.segments
      .slice(0, q.nrSegments)
      .map((s) => `{ .gref = ${s.gref}u, .first_sect = ${s.firstSect}, .last_sect = ${s.lastSect} }`)
      .join(", ");
    return `{ .operation = ${q.operation}, .nr_segments = ${q.nrSegments}, .handle = ${q.handle}, .id = ${u64(q.idLo, q.idHi)}, .sector_number = ${u64(q.sectorLo, q.sectorHi)}, .seg = { ${segs} } }`;
  });
  L.push(`${sec("rw")} struct blkif_request rw[${N}] = { ${rw.join(",\n")} };`);
  const disc = cs.map(
    ({ disc: q }) =>
      `{ .operation = 5, .flag = ${q.flag}, .handle = ${q.handle}, .id = ${u64(q.idLo, q.idHi)}, .sector_number = ${u64(q.sectorLo, q.sectorHi)}, .nr_sectors = ${u64(q.nrSectorsLo, q.nrSectorsHi)} }`,
  );
  L.push(`${sec("disc")} struct blkif_request_discard disc[${N}] = { ${disc.join(",\n")} };`);
  const ind = cs.map(
    ({ ind: q }) =>
      `{ .operation = 6, .indirect_op = ${q.indirectOp}, .nr_segments = ${q.nrSegments}, .id = ${u64(q.idLo, q.idHi)}, .sector_number = ${u64(q.sectorLo, q.sectorHi)}, .handle = ${q.handle}, .indirect_grefs = { ${q.indirectGrefs.map((g) => `${g}u`).join(", ")} } }`,
  );
  L.push(`${sec("ind")} struct blkif_request_indirect ind[${N}] = { ${ind.join(",\n")} };`);
  const rsp = cs.map(
    ({ rsp: [lo, hi, op, st] }) => `{ .id = ${u64(lo, hi)}, .operation = ${op}, .status = ${st} }`,
  );
  L.push(`${sec("rsp")} struct blkif_response rsp[${N}] = { ${rsp.join(",\n")} };`);
  const segs = cs[0]!.req.segments;
  L.push(
    `${sec("seg")} struct blkif_request_segment seg[${segs.length}] = { ${segs.map((s) => `{ ${s.gref}u, ${s.firstSect}, ${s.lastSect} }`).join(", ")} };`,
  );
  L.push(
    `${sec("sizes")} uint32_t sizes[] = { sizeof(struct blkif_request), sizeof(struct blkif_request_discard), sizeof(struct blkif_request_indirect), sizeof(struct blkif_response) };`,
  );
  return L.join("\n") + "\n";
}

const FLAGS: Record<XenAbi, string[]> = { x86_64: ["-m64"], x86_32: ["-m32", "-ffreestanding"] };

/** Why gcc cannot compile the real blkif.h for `abi` here (the only reason to skip), or undefined. */
function toolchainUnavailable(abi: XenAbi): string | undefined {
  if (!existsSync("/usr/include/xen/io/blkif.h")) return "/usr/include/xen/io/blkif.h missing (libxen-dev)";
  const cc = spawnSync("gcc", [...FLAGS[abi], "-std=gnu11", "-x", "c", "-c", "-", "-o", "/dev/null"], {
    input: "#include <stdint.h>\n#include <xen/io/blkif.h>\nint x;\n",
    encoding: "utf8",
  });
  if (cc.error || cc.status !== 0) return `gcc cannot compile blkif.h for ${abi} here`;
  const oc = spawnSync("objcopy", ["--version"]);
  if (oc.error || oc.status !== 0) return "objcopy (binutils) not found";
  return undefined;
}

/** Compiles `src`; any failure here is a test failure (the toolchain was checked first). */
function compile(abi: XenAbi, src: string): (name: string) => Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "xensim-blkif-gcc-"));
  try {
    writeFileSync(join(dir, "t.c"), src);
    const cc = spawnSync("gcc", [...FLAGS[abi], "-std=gnu11", "-O0", "-w", "-c", "t.c", "-o", "t.o"], {
      cwd: dir,
      encoding: "utf8",
    });
    if (cc.status !== 0) throw new Error(`gcc ${abi}: ${cc.stderr ?? String(cc.error)}`);
    const sections = new Map<string, Uint8Array>();
    for (const name of ["rw", "disc", "ind", "rsp", "seg", "sizes"]) {
      const oc = spawnSync("objcopy", ["-O", "binary", `--only-section=.xs_${name}`, "t.o", `${name}.bin`], {
        cwd: dir,
      });
      if (oc.status !== 0) throw new Error(`objcopy failed for ${name}`);
      sections.set(name, new Uint8Array(readFileSync(join(dir, `${name}.bin`))));
    }
    return (name) => sections.get(name)!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

for (const abi of ["x86_64", "x86_32"] as const) {
  test(
    `${abi}: encoder bytes equal gcc's for the real blkif.h structs`,
    { skip: toolchainUnavailable(abi) ?? false },
    () => {
      const cs = cases();
      const got = compile(abi, cSource(cs));
      const sizes = got("sizes");
      const dv = new DataView(sizes.buffer, sizes.byteOffset);
      const [rwSize, discSize, indSize, rspSize] = [0, 4, 8, 12].map((o) => dv.getUint32(o, true));
      assert.equal(rwSize, requestBytes(BlkifOp.READ, abi));
      assert.equal(discSize, requestBytes(BlkifOp.DISCARD, abi));
      assert.equal(indSize, requestBytes(BlkifOp.INDIRECT, abi));
      assert.equal(rspSize, abi === "x86_64" ? 16 : 12);
      assert.equal(got("rw").length, rwSize! * N, "the section holds every case");
      const ours = (size: number, fill: (buf: Uint8Array, off: number, c: Case) => void) => {
        const buf = new Uint8Array(size * N);
        cs.forEach((c, i) => fill(buf, i * size, c));
        return buf;
      };
      assert.equal(
        hex(ours(rwSize!, (b, o, c) => encodeRequest(b, o, abi, c.req))),
        hex(got("rw")),
        "blkif_request",
      );
      assert.equal(
        hex(ours(discSize!, (b, o, c) => encodeRequest(b, o, abi, c.disc))),
        hex(got("disc")),
        "discard",
      );
      assert.equal(
        hex(ours(indSize!, (b, o, c) => encodeRequest(b, o, abi, c.ind))),
        hex(got("ind")),
        "indirect",
      );
      assert.equal(
        hex(ours(rspSize!, (b, o, c) => encodeResponse(b, o, abi, c.rsp[0], c.rsp[1], c.rsp[2], c.rsp[3]))),
        hex(got("rsp")),
        "blkif_response",
      );
      const segs = cs[0]!.req.segments;
      const page = new Uint8Array(segs.length * 8);
      encodeIndirectSegments(page, 0, 0, segs, 0, segs.length);
      assert.equal(hex(page), hex(got("seg")), "indirect page segments");
    },
  );
}
