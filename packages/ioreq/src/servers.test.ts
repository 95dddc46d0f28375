// dm_op's ioreq-server ops with Xen's errnos (bad ids, pads, inverted and overlapping ranges, the
// range limit, a caller that is not the creator, ENOSPC), acquire_resource, teardown with a leak
// check, and the server selection of fact sheet §7 case by case.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  HVM_IOREQSRV_BUFIOREQ_LEGACY,
  HVM_IOREQSRV_BUFIOREQ_OFF,
  IOREQ_READ,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_INVALIDATE,
  IOREQ_TYPE_PCI_CONFIG,
  IOREQ_TYPE_PIO,
  IOREQ_TYPE_TIMEOFFSET,
  IOREQ_WRITE,
  XEN_DM_OP_LAYOUT,
  XEN_DMOP_IO_RANGE_MEMORY,
  XEN_DMOP_IO_RANGE_PCI,
  XEN_DMOP_IO_RANGE_PORT,
  XENMEM_resource_ioreq_server_frame_bufioreq,
  XenErrno,
  xenDmopPciSbdf,
  xenmemResourceIoreqServerFrameIoreq,
} from "@xensim/abi";
import { newIoreq, type Ioreq } from "./codec.js";
import {
  decodeCreateIoreqServerId,
  decodeGetIoreqServerInfo,
  encodeCreateIoreqServer,
  encodeDestroyIoreqServer,
  encodeGetIoreqServerInfo,
  encodeIoRange,
  encodeSetIoreqServerState,
} from "./dmop.js";
import { T_CF8, tableBase } from "./layout.js";
import { WORLD_DOMAINS, world } from "./testing/world.js";
import { classify, selectServer } from "./vcpu.js";

const E = (n: keyof typeof XenErrno) => -XenErrno[n];
const { GUEST, PV, OTHER_EMU } = WORLD_DOMAINS;

test("dm_op refusals in Xen's order: unknown domain, itself, PV, unprivileged caller, short buffer, unknown op, pad", () => {
  const { dm } = world();
  const create = encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_ATOMIC);
  assert.equal(dm(0, 77, create).rc, E("ESRCH"));
  assert.equal(dm(GUEST, GUEST, create).rc, E("EPERM"), "rcu_lock_remote_domain_by_id: not on itself");
  assert.equal(dm(0, PV, create).rc, E("EINVAL"), "not an HVM domain");
  assert.equal(dm(PV, GUEST, create).rc, E("EPERM"), "xsm_dm_op");
  assert.equal(dm(0, GUEST, create.subarray(0, 7)).rc, E("EFAULT"), "shorter than the header");
  const op = (n: number) => {
    const b = new Uint8Array(XEN_DM_OP_LAYOUT.u + 32);
    new DataView(b.buffer).setUint32(0, n, true);
    return b;
  };
  for (const n of [0, 7, 16, 19, 20, 21, 0xffffffff])
    assert.equal(dm(0, GUEST, op(n)).rc, E("EOPNOTSUPP"), `op ${n}`);
  // 8, 9, 10 are the interrupt lines: op 8 with all-zero bytes asserts nothing (level 0 of 00:00.0 INTA).
  assert.equal(dm(0, GUEST, op(8)).rc, 0, "set_pci_intx_level");
  assert.equal(dm(0, GUEST, create.subarray(0, XEN_DM_OP_LAYOUT.u + 3)).rc, E("EFAULT"), "union truncated");
  const padded = Uint8Array.from(create);
  padded[4] = 1;
  assert.equal(dm(0, GUEST, padded).rc, E("EINVAL"), "xen_dm_op.pad");
});

test("create: bufioreq handling > ATOMIC, pad bytes; ids 0…7 lowest free then ENOSPC; a freed id is reused", () => {
  const { dm } = world();
  assert.equal(dm(0, GUEST, encodeCreateIoreqServer(3)).rc, E("EINVAL"));
  const padded = encodeCreateIoreqServer(1);
  padded[XEN_DM_OP_LAYOUT.u + 2] = 9;
  assert.equal(dm(0, GUEST, padded).rc, E("EINVAL"));
  const ids: number[] = [];
  for (let i = 0; i < 8; i++) {
    const r = dm(0, GUEST, encodeCreateIoreqServer(i % 3));
    assert.equal(r.rc, 0);
    ids.push(decodeCreateIoreqServerId(r.buf));
  }
  assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(dm(0, GUEST, encodeCreateIoreqServer(0)).rc, E("ENOSPC"));
  assert.equal(dm(0, GUEST, encodeDestroyIoreqServer(3)).rc, 0);
  assert.equal(decodeCreateIoreqServerId(dm(0, GUEST, encodeCreateIoreqServer(0)).buf), 3);
});

test("every op on another emulator's server is EPERM; unknown ids ENOENT; get_info flags and gfns", () => {
  const { dm, servers } = world();
  const id = decodeCreateIoreqServerId(dm(OTHER_EMU, GUEST, encodeCreateIoreqServer(1)).buf);
  for (const b of [
    encodeGetIoreqServerInfo(id),
    encodeIoRange(true, id, XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn),
    encodeIoRange(false, id, XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn),
    encodeSetIoreqServerState(id, true),
    encodeDestroyIoreqServer(id),
  ])
    assert.equal(dm(0, GUEST, b).rc, E("EPERM"), "dom0 did not create it");
  assert.equal(servers.acquireResource(0, GUEST, id, 1, 1).rc, E("EPERM"));
  for (const bad of [5, 8, 0xffff]) {
    assert.equal(dm(OTHER_EMU, GUEST, encodeGetIoreqServerInfo(bad)).rc, E("ENOENT"));
    assert.equal(dm(OTHER_EMU, GUEST, encodeDestroyIoreqServer(bad)).rc, E("ENOENT"));
  }
  assert.equal(dm(OTHER_EMU, GUEST, encodeGetIoreqServerInfo(id, 2)).rc, E("EINVAL"), "unknown flag");
  assert.equal(
    dm(OTHER_EMU, GUEST, encodeGetIoreqServerInfo(id, 0)).rc,
    E("ENOMEM"),
    "gfns: no legacy gfn pool",
  );
  const info = dm(OTHER_EMU, GUEST, encodeGetIoreqServerInfo(id));
  assert.equal(info.rc, 0);
  const port = decodeGetIoreqServerInfo(info.buf).bufioreqPort;
  assert.ok(port > 0, "buffering on: a buffered port");
  assert.equal(servers.acquireResource(OTHER_EMU, GUEST, id, 0, 2).rc, 0);
  assert.equal(
    dm(OTHER_EMU, GUEST, encodeGetIoreqServerInfo(id, 0)).rc,
    E("EPERM"),
    "gfns after acquire_resource",
  );
});

test("ranges: start > end EINVAL, bad type EINVAL, overlap EEXIST, adjacent merge, 256 per type then ENOMEM, unmap must be contained; pads", () => {
  const { dm, servers } = world();
  const id = decodeCreateIoreqServerId(dm(0, GUEST, encodeCreateIoreqServer(0)).buf);
  const map = (t: number, s: bigint, e: bigint) => dm(0, GUEST, encodeIoRange(true, id, t, s, e)).rc;
  const unmap = (t: number, s: bigint, e: bigint) => dm(0, GUEST, encodeIoRange(false, id, t, s, e)).rc;
  assert.equal(map(XEN_DMOP_IO_RANGE_PORT, 0x400n, 0x3ffn), E("EINVAL"));
  assert.equal(map(3, 0n, 1n), E("EINVAL"));
  assert.equal(map(XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn), 0);
  assert.equal(map(XEN_DMOP_IO_RANGE_PORT, 0x3fcn, 0x400n), E("EEXIST"));
  assert.equal(map(XEN_DMOP_IO_RANGE_PORT, 0x400n, 0x407n), 0, "adjacent: merges");
  assert.deepEqual(servers.servers(GUEST)[0]!.ranges.port, [{ start: 0x3f8n, end: 0x407n }]);
  assert.equal(unmap(XEN_DMOP_IO_RANGE_PORT, 0x3f0n, 0x3f8n), E("ENOENT"), "not fully contained");
  assert.equal(unmap(XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn), 0);
  // The limit is per type: 256 separate memory ranges, then ENOMEM; PCI is still free.
  for (let i = 0; i < 256; i++)
    assert.equal(map(XEN_DMOP_IO_RANGE_MEMORY, BigInt(i * 0x2000), BigInt(i * 0x2000 + 0xfff)), 0);
  assert.equal(map(XEN_DMOP_IO_RANGE_MEMORY, 0x10_0000_0000n, 0x10_0000_0fffn), E("ENOMEM"));
  assert.equal(
    map(XEN_DMOP_IO_RANGE_MEMORY, 0x1000n, 0x1fffn),
    0,
    "fills a gap: two ranges and it merge into one",
  );
  assert.equal(map(XEN_DMOP_IO_RANGE_MEMORY, 0x20_0000_0000n, 0x20_0000_0000n), 0, "256 again");
  assert.equal(unmap(XEN_DMOP_IO_RANGE_MEMORY, 0x1000n, 0x1000n), E("ENOMEM"), "a split past the limit");
  assert.equal(unmap(XEN_DMOP_IO_RANGE_MEMORY, 0x0n, 0x1000n), 0, "trimming the front needs no new range");
  assert.equal(
    map(XEN_DMOP_IO_RANGE_PCI, BigInt(xenDmopPciSbdf(0, 0, 3, 0)), BigInt(xenDmopPciSbdf(0, 0, 3, 0))),
    0,
  );
  const padded = encodeIoRange(true, id, XEN_DMOP_IO_RANGE_PORT, 0x60n, 0x60n);
  padded[XEN_DM_OP_LAYOUT.u + 2] = 1;
  assert.equal(dm(0, GUEST, padded).rc, E("EINVAL"));
  const st = encodeSetIoreqServerState(id, true);
  st[XEN_DM_OP_LAYOUT.u + 3] = 1;
  assert.equal(dm(0, GUEST, st).rc, E("EINVAL"));
  const de = encodeDestroyIoreqServer(id);
  de[XEN_DM_OP_LAYOUT.u + 2] = 1;
  assert.equal(dm(0, GUEST, de).rc, E("EINVAL"));
});

test("acquire_resource: frame 0 buffered (ENOENT with buffering off), frame 1 synchronous, others EINVAL; enable writes vp_eport", () => {
  const { dm, servers, store } = world();
  const off = decodeCreateIoreqServerId(dm(0, GUEST, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_OFF)).buf);
  assert.equal(
    servers.acquireResource(0, GUEST, off, XENMEM_resource_ioreq_server_frame_bufioreq, 1).rc,
    E("ENOENT"),
  );
  assert.equal(
    servers.acquireResource(0, GUEST, off, xenmemResourceIoreqServerFrameIoreq(1), 1).rc,
    E("EINVAL"),
  );
  const r = servers.acquireResource(0, GUEST, off, xenmemResourceIoreqServerFrameIoreq(0), 1);
  assert.equal(r.rc, 0);
  assert.equal(decodeGetIoreqServerInfo(dm(0, GUEST, encodeGetIoreqServerInfo(off)).buf).bufioreqPort, 0);
  assert.equal(dm(0, GUEST, encodeSetIoreqServerState(off, true)).rc, 0);
  const v = servers.servers(GUEST)[0]!;
  assert.equal(v.ports.length, 2, "one port per vCPU");
  for (let vcpu = 0; vcpu < 2; vcpu++)
    assert.equal(store.i32[r.frames[0]! * 1024 + vcpu * 8 + 6], v.ports[vcpu], `vCPU ${vcpu}'s vp_eport`);
  const both = servers.acquireResource(
    0,
    GUEST,
    decodeCreateIoreqServerId(dm(0, GUEST, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_LEGACY)).buf),
    0,
    2,
  );
  assert.equal(both.rc, 0);
  assert.equal(both.frames.length, 2);
});

test("teardown: destroy and domain death release ports, range sets, pages, the table; acquired pages live until released", () => {
  const { dm, servers, store, ev, xenFrames } = world();
  const xen0 = xenFrames();
  const ports0 = ev.portCount(GUEST);
  const a = decodeCreateIoreqServerId(
    dm(0, GUEST, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_ATOMIC)).buf,
  );
  const b = decodeCreateIoreqServerId(dm(0, GUEST, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_OFF)).buf);
  assert.equal(ev.portCount(GUEST), ports0 + 2 + 1 + 2, "2 vCPU ports each, 1 buffered port");
  for (const id of [a, b]) {
    dm(0, GUEST, encodeIoRange(true, id, XEN_DMOP_IO_RANGE_PORT, 0x3f8n + BigInt(id), 0x3f8n + BigInt(id)));
    dm(0, GUEST, encodeIoRange(true, id, XEN_DMOP_IO_RANGE_MEMORY, 0xa0000n, 0xa0fffn));
  }
  const acq = servers.acquireResource(0, GUEST, a, 0, 2);
  assert.equal(acq.rc, 0);
  assert.equal(dm(0, GUEST, encodeDestroyIoreqServer(a)).rc, 0);
  assert.equal(ev.portCount(GUEST), ports0 + 2);
  assert.ok(
    acq.frames.every((f) => store.frameDying(f)),
    "still mapped by the emulator: dying, not free",
  );
  assert.equal(servers.releaseResource(0, GUEST, a), 0);
  assert.ok(
    acq.frames.every((f) => store.frameOwner(f) === undefined),
    "freed at the last reference",
  );
  servers.destroyAll(GUEST);
  assert.equal(ev.portCount(GUEST), ports0);
  assert.equal(servers.table(GUEST), 0);
  assert.equal(xenFrames(), xen0, "no DOMID_XEN frame left behind");
  assert.equal(servers.acquiredCount(), 0);
});

// ---- selection (fact sheet §7) ------------------------------------------------------------------------

function routing() {
  const w = world();
  const mk = () =>
    decodeCreateIoreqServerId(w.dm(0, GUEST, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_OFF)).buf);
  const older = mk();
  const newer = mk();
  const map = (id: number, t: number, s: bigint, e = s) =>
    assert.equal(w.dm(0, GUEST, encodeIoRange(true, id, t, s, e)).rc, 0);
  map(older, XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn);
  map(newer, XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn); // both claim the UART: the newer wins
  map(older, XEN_DMOP_IO_RANGE_PORT, 0x60n, 0x63n);
  map(newer, XEN_DMOP_IO_RANGE_PORT, 0x64n, 0x67n);
  map(older, XEN_DMOP_IO_RANGE_PORT, 0xcf8n, 0xcffn);
  map(older, XEN_DMOP_IO_RANGE_MEMORY, 0xa0000n, 0xbffffn);
  map(older, XEN_DMOP_IO_RANGE_PCI, BigInt(xenDmopPciSbdf(0, 0, 0, 0)));
  map(newer, XEN_DMOP_IO_RANGE_PCI, BigInt(xenDmopPciSbdf(0, 0, 3, 0)));
  for (const id of [older, newer]) assert.equal(w.dm(0, GUEST, encodeSetIoreqServerState(id, true)).rc, 0);
  const table = w.servers.table(GUEST);
  const setCf8 = (v: number) => Atomics.store(w.store.i32, tableBase(table) + T_CF8, v | 0);
  const select = (req: Ioreq) => {
    const s = selectServer(w.store.i32, table, req);
    return s && { id: s.id, type: s.req.type, addr: s.req.addr };
  };
  return { ...w, older, newer, setCf8, select, map };
}

const pio = (port: number, size: number, dir = IOREQ_WRITE) =>
  newIoreq({ type: IOREQ_TYPE_PIO, addr: BigInt(port), size, dir });
const mmio = (addr: bigint, size: number, count = 1, df = false) =>
  newIoreq({ type: IOREQ_TYPE_COPY, addr, size, count, df, dir: IOREQ_WRITE });

test("§7 routing: both claim the UART → the newer server; disabled → the older; nobody → null", () => {
  const r = routing();
  assert.equal(r.select(pio(0x3f8, 1))?.id, r.newer, "newest id first");
  assert.equal(r.dm(0, GUEST, encodeSetIoreqServerState(r.newer, false)).rc, 0);
  assert.equal(r.select(pio(0x3f8, 1))?.id, r.older, "disabled servers get nothing");
  assert.equal(r.select(pio(0x2f8, 1)), undefined, "no range: Xen's null handler");
});

test("§7 routing: full containment — an access over the end of a range, or straddling two servers, matches nobody", () => {
  const r = routing();
  assert.equal(r.select(pio(0x3fc, 4))?.id, r.newer, "0x3fc–0x3ff inside");
  assert.equal(r.select(pio(0x3fe, 4)), undefined, "0x3fe–0x401 leaves the range");
  assert.equal(r.select(pio(0x60, 4))?.id, r.older);
  assert.equal(r.select(pio(0x62, 4)), undefined, "0x62–0x65: half the older's, half the newer's");
  assert.equal(r.select(pio(0x64, 2))?.id, r.newer);
});

test("§7 routing: CF8/CFC with the enable bit → PCI by SBDF, type rewritten to PCI_CONFIG, addr SBDF << 32 | register", () => {
  const r = routing();
  r.setCf8(0x8000_1810); // bus 0, dev 3, fn 0, register 0x10
  assert.deepEqual(r.select(pio(0xcfc, 4, IOREQ_READ)), {
    id: r.newer,
    type: IOREQ_TYPE_PCI_CONFIG,
    addr: (BigInt(xenDmopPciSbdf(0, 0, 3, 0)) << 32n) | 0x10n,
  });
  assert.deepEqual(
    r.select(pio(0xcfe, 2, IOREQ_READ))?.addr,
    (0x18n << 32n) | 0x12n,
    "register | (port & 3)",
  );
  r.setCf8(0x8000_0000); // 00:00.0, the host bridge the older claims
  assert.equal(r.select(pio(0xcfc, 4))?.id, r.older);
  r.setCf8(0x8000_2000); // 00:04.0: nobody
  assert.equal(r.select(pio(0xcfc, 4)), undefined, "no server for the device: reads all-ones (no device)");
  r.setCf8(0x0000_1810); // enable bit clear: a plain port access to 0xcfc
  assert.deepEqual(r.select(pio(0xcfc, 4)), { id: r.older, type: IOREQ_TYPE_PIO, addr: 0xcfcn });
  assert.deepEqual(
    classify(pio(0xcf8, 4), 0x8000_1810),
    { type: XEN_DMOP_IO_RANGE_PORT, addr: 0xcf8n },
    "0xcf8 itself is a port",
  );
  assert.deepEqual(classify(pio(0xd00, 1), 0x8000_1810), { type: XEN_DMOP_IO_RANGE_PORT, addr: 0xd00n });
});

test("§7 routing: MMIO covers the whole rep access — first..last byte with count, size and df", () => {
  const r = routing();
  assert.equal(r.select(mmio(0xa0000n, 4, 16))?.id, r.older, "0xa0000–0xa003f");
  assert.equal(r.select(mmio(0xbfff0n, 4, 4))?.id, r.older, "…–0xbffff, the last byte");
  assert.equal(r.select(mmio(0xbfff0n, 4, 5)), undefined, "one element past the end");
  assert.equal(r.select(mmio(0xa000cn, 4, 4, true))?.id, r.older, "df: 0xa0000–0xa000f going down");
  assert.equal(r.select(mmio(0xa0008n, 4, 4, true)), undefined, "df: starts 4 bytes below the range");
  assert.equal(r.select(mmio(0xfee00000n, 4)), undefined);
});

test("§7 routing: INVALIDATE and TIMEOFFSET are not routed by range (they are broadcast)", () => {
  assert.equal(classify(newIoreq({ type: IOREQ_TYPE_INVALIDATE }), 0), undefined);
  assert.equal(classify(newIoreq({ type: IOREQ_TYPE_TIMEOFFSET }), 0), undefined);
  assert.equal(classify(newIoreq({ type: IOREQ_TYPE_PCI_CONFIG }), 0), undefined);
});
