// Differential test against the real headers (STYLE.md item 13): gcc compiles /usr/include/xen's
// hvm/ioreq.h (both ABIs) and hvm/dm_op.h (x86_64 tools build) with initialised ioreq_t, buf_ioreq and
// xen_dm_op structs holding the values our encoders get; the object file's section bytes must equal
// ours byte for byte, and our decoders must read gcc's bytes back to the same values.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { XEN_DM_OP_LAYOUT, type XenAbi } from "@xensim/abi";
import {
  type BufIoreq,
  decodeBufIoreqBytes,
  decodeIoreqBytes,
  encodeBufIoreqBytes,
  encodeIoreqBytes,
  type Ioreq,
} from "./codec.js";
import {
  encodeCreateIoreqServer,
  encodeDestroyIoreqServer,
  encodeGetIoreqServerInfo,
  encodeIoRange,
  encodeSetIoreqServerState,
  encodeSetIsaIrqLevel,
  encodeSetPciIntxLevel,
  encodeSetPciLinkRoute,
} from "./dmop.js";

const N = 32;

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
}

function ioreqCases(): Ioreq[] {
  const r = lcg(0x10e9);
  const u64 = () => (BigInt(r()) << 32n) | BigInt(r());
  return Array.from({ length: N }, (_, i) => ({
    addr: i % 4 === 0 ? BigInt(r() & 0xffff) : u64(),
    data: u64(),
    count: r(),
    size: [1, 2, 4, 8][r() % 4]!,
    vpEport: r() % 4096,
    state: r() % 4,
    dataIsPtr: (r() & 1) === 1,
    dir: r() & 1,
    df: (r() & 1) === 1,
    type: [0, 1, 2, 7, 8][r() % 5]!,
  }));
}

function bufCases(): BufIoreq[] {
  const r = lcg(0xb0f);
  return Array.from({ length: N }, () => ({
    type: [0, 1, 7][r() % 3]!,
    dir: r() & 1,
    size: [1, 2, 4, 8][r() % 4]!,
    addr: r() & 0xfffff,
    data: BigInt(r()),
  }));
}

interface DmCase {
  bytes: Uint8Array;
  c: string;
}

function dmCases(): DmCase[] {
  const r = lcg(0xd0);
  const out: DmCase[] = [];
  for (let i = 0; i < 8; i++) {
    const h = r() % 3;
    out.push({
      bytes: encodeCreateIoreqServer(h),
      c: `{ .op = XEN_DMOP_create_ioreq_server, .u.create_ioreq_server = { .handle_bufioreq = ${h} } }`,
    });
    const id = r() & 7;
    out.push({
      bytes: encodeGetIoreqServerInfo(id, 1),
      c: `{ .op = XEN_DMOP_get_ioreq_server_info, .u.get_ioreq_server_info = { .id = ${id}, .flags = XEN_DMOP_no_gfns } }`,
    });
    const type = r() % 3;
    const s = (BigInt(r()) << 32n) | BigInt(r());
    const e = s + BigInt(r());
    for (const map of [true, false])
      out.push({
        bytes: encodeIoRange(map, id, type, s, BigInt.asUintN(64, e)),
        c: `{ .op = ${map ? "XEN_DMOP_map_io_range_to_ioreq_server" : "XEN_DMOP_unmap_io_range_from_ioreq_server"}, .u.${map ? "map_io_range_to_ioreq_server" : "unmap_io_range_from_ioreq_server"} = { .id = ${id}, .type = ${type}, .start = ${s}ULL, .end = ${BigInt.asUintN(64, e)}ULL } }`,
      });
    const en = r() & 1;
    out.push({
      bytes: encodeSetIoreqServerState(id, en === 1),
      c: `{ .op = XEN_DMOP_set_ioreq_server_state, .u.set_ioreq_server_state = { .id = ${id}, .enabled = ${en} } }`,
    });
    out.push({
      bytes: encodeDestroyIoreqServer(id),
      c: `{ .op = XEN_DMOP_destroy_ioreq_server, .u.destroy_ioreq_server = { .id = ${id} } }`,
    });
    const irq = r() & 15;
    const lvl = r() & 1;
    out.push({
      bytes: encodeSetIsaIrqLevel(irq, lvl),
      c: `{ .op = XEN_DMOP_set_isa_irq_level, .u.set_isa_irq_level = { .isa_irq = ${irq}, .level = ${lvl} } }`,
    });
    const dev = r() & 31;
    const intx = r() & 3;
    out.push({
      bytes: encodeSetPciIntxLevel(0, 0, dev, intx, lvl),
      c: `{ .op = XEN_DMOP_set_pci_intx_level, .u.set_pci_intx_level = { .domain = 0, .bus = 0, .device = ${dev}, .intx = ${intx}, .level = ${lvl} } }`,
    });
    out.push({
      bytes: encodeSetPciLinkRoute(intx, irq),
      c: `{ .op = XEN_DMOP_set_pci_link_route, .u.set_pci_link_route = { .link = ${intx}, .isa_irq = ${irq} } }`,
    });
  }
  return out;
}

function cSource(abi: XenAbi, io: Ioreq[], buf: BufIoreq[], dm: DmCase[]): string {
  const L = [
    "#include <stdint.h>",
    "#include <stddef.h>",
    "#include <xen/xen.h>",
    "#include <xen/hvm/ioreq.h>",
  ];
  if (abi === "x86_64") L.push("#include <xen/hvm/dm_op.h>");
  const sec = (n: string) => `__attribute__((section(".xs_${n}"), used))`;
  L.push(
    `${sec("ioreq")} ioreq_t io[${N}] = { ${io
      .map(
        (q) =>
          `{ .addr = ${q.addr}ULL, .data = ${q.data}ULL, .count = ${q.count}u, .size = ${q.size}u, .vp_eport = ${q.vpEport}u, .state = ${q.state}, .data_is_ptr = ${q.dataIsPtr ? 1 : 0}, .dir = ${q.dir}, .df = ${q.df ? 1 : 0}, .type = ${q.type} }`,
      )
      .join(",\n")} };`,
  );
  const code = (n: number) => [1, 2, 4, 8].indexOf(n);
  L.push(
    `${sec("buf")} buf_ioreq_t buf[${N}] = { ${buf
      .map(
        (b) =>
          `{ .type = ${b.type}, .dir = ${b.dir}, .size = ${code(b.size)}, .addr = ${b.addr}u, .data = ${b.data}u }`,
      )
      .join(",\n")} };`,
  );
  L.push(
    `${sec("sizes")} uint32_t sizes[] = { sizeof(ioreq_t), sizeof(buf_ioreq_t), sizeof(struct buffered_iopage) };`,
  );
  if (abi === "x86_64") {
    L.push(`${sec("dm")} struct xen_dm_op dm[${dm.length}] = { ${dm.map((d) => d.c).join(",\n")} };`);
    L.push(`${sec("dmsize")} uint32_t dmsize[] = { sizeof(struct xen_dm_op) };`);
  }
  return L.join("\n") + "\n";
}

const FLAGS: Record<XenAbi, string[]> = {
  x86_64: ["-m64", "-D__XEN_TOOLS__"],
  x86_32: ["-m32", "-ffreestanding"],
};

function toolchainUnavailable(abi: XenAbi): string | undefined {
  if (!existsSync("/usr/include/xen/hvm/ioreq.h")) return "/usr/include/xen/hvm/ioreq.h missing (libxen-dev)";
  const cc = spawnSync("gcc", [...FLAGS[abi], "-std=gnu11", "-x", "c", "-c", "-", "-o", "/dev/null"], {
    input: "#include <stdint.h>\n#include <xen/xen.h>\n#include <xen/hvm/ioreq.h>\nint x;\n",
    encoding: "utf8",
  });
  if (cc.error || cc.status !== 0) return `gcc cannot compile hvm/ioreq.h for ${abi} here`;
  const oc = spawnSync("objcopy", ["--version"]);
  if (oc.error || oc.status !== 0) return "objcopy (binutils) not found";
  return undefined;
}

function compile(abi: XenAbi, src: string, sections: string[]): (name: string) => Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "xensim-ioreq-gcc-"));
  try {
    writeFileSync(join(dir, "t.c"), src);
    const cc = spawnSync("gcc", [...FLAGS[abi], "-std=gnu11", "-O0", "-w", "-c", "t.c", "-o", "t.o"], {
      cwd: dir,
      encoding: "utf8",
    });
    if (cc.status !== 0) throw new Error(`gcc ${abi}: ${cc.stderr ?? String(cc.error)}`);
    const got = new Map<string, Uint8Array>();
    for (const name of sections) {
      const oc = spawnSync("objcopy", ["-O", "binary", `--only-section=.xs_${name}`, "t.o", `${name}.bin`], {
        cwd: dir,
      });
      if (oc.status !== 0) throw new Error(`objcopy failed for ${name}`);
      got.set(name, new Uint8Array(readFileSync(join(dir, `${name}.bin`))));
    }
    return (name) => got.get(name)!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

for (const abi of ["x86_64", "x86_32"] as const) {
  test(
    `${abi}: ioreq_t and buf_ioreq codecs equal gcc's bytes for the real hvm/ioreq.h`,
    { skip: toolchainUnavailable(abi) ?? false },
    () => {
      const io = ioreqCases();
      const buf = bufCases();
      const got = compile(abi, cSource(abi, io, buf, dmCases()), ["ioreq", "buf", "sizes"]);
      const sizes = new DataView(got("sizes").buffer, got("sizes").byteOffset);
      assert.deepEqual(
        [0, 4, 8].map((o) => sizes.getUint32(o, true)),
        [32, 8, 4096],
      );
      const gIo = got("ioreq");
      assert.equal(gIo.length, 32 * N);
      io.forEach((q, i) => {
        const theirs = gIo.subarray(i * 32, (i + 1) * 32);
        assert.equal(hex(encodeIoreqBytes(q)), hex(theirs), `ioreq_t case ${i}`);
        assert.deepEqual(decodeIoreqBytes(theirs), q, `ioreq_t case ${i} decoded`);
      });
      const gBuf = got("buf");
      buf.forEach((b, i) => {
        const theirs = gBuf.subarray(i * 8, (i + 1) * 8);
        assert.equal(hex(encodeBufIoreqBytes(b)), hex(theirs), `buf_ioreq case ${i}`);
        assert.deepEqual(decodeBufIoreqBytes(theirs), b, `buf_ioreq case ${i} decoded`);
      });
    },
  );
}

test(
  "x86_64 tools: the dm_op encoders equal gcc's struct xen_dm_op bytes for the real hvm/dm_op.h",
  { skip: toolchainUnavailable("x86_64") ?? false },
  () => {
    const dm = dmCases();
    const got = compile("x86_64", cSource("x86_64", ioreqCases(), bufCases(), dm), ["dm", "dmsize"]);
    const size = new DataView(got("dmsize").buffer, got("dmsize").byteOffset).getUint32(0, true);
    assert.ok(size >= XEN_DM_OP_LAYOUT.u + 24, `sizeof(struct xen_dm_op) = ${size}`);
    const all = got("dm");
    assert.equal(all.length, size * dm.length);
    dm.forEach((d, i) => {
      const theirs = all.subarray(i * size, (i + 1) * size);
      assert.equal(hex(d.bytes), hex(theirs.subarray(0, d.bytes.length)), `dm_op case ${i}: ${d.c}`);
      assert.ok(
        theirs.subarray(d.bytes.length).every((b) => b === 0),
        "the rest of the union is zero",
      );
    });
  },
);
