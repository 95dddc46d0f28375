// ioreq: what a misbehaving party can put in front of Xen's and the emulator's ioreq code — a
// buffered page image (any pointers and entries) for the emulator's drain and Xen's send, a
// synchronous page image (any state, flags and fields) for Xen's wait_for_io and the emulator's
// take, and HYPERVISOR_dm_op buffers (any op, pad, ids, ranges, from any caller) against one ioreq
// server table, which is torn down after each input and must leave nothing behind.
//
// The input is a list of records, tag u8, length u16 (little-endian), then that many bytes:
//   0  buffered page image (the page's first bytes; the rest zero): drain, then Xen's sends
//   1  synchronous page image: Xen's check of every vCPU slot from every previous state, the take
//   2  dm_op: caller index, target index, then the xen_dm_op buffer
import {
  DOMID_XEN,
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  HVM_IOREQSRV_BUFIOREQ_LEGACY,
  HVM_IOREQSRV_BUFIOREQ_OFF,
  IOREQ_BUFFER_SLOT_NUM,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_PIO,
  STATE_IOREQ_INPROCESS,
  STATE_IOREQ_NONE,
  STATE_IOREQ_READY,
  STATE_IORESP_READY,
  XEN_DMOP_IO_RANGE_MEMORY,
  XEN_DMOP_IO_RANGE_PCI,
  XEN_DMOP_IO_RANGE_PORT,
  XenErrno,
} from "@xensim/abi";
import { EventChannels } from "@xensim/evtchn";
import {
  bufPending,
  ctrlState,
  type DmOpDomains,
  dmDrainBuffered,
  dmTakeIoreq,
  doDmOp,
  encodeCreateIoreqServer,
  encodeDestroyIoreqServer,
  encodeGetIoreqServerInfo,
  encodeIoRange,
  encodeSetIoreqServerState,
  IOREQ_CTRL_WORD,
  IoreqServers,
  ioreqSlot,
  MAX_NR_IO_RANGES,
  xenBufSend,
  xenCheckIoreq,
} from "@xensim/ioreq";
import { PageStore } from "@xensim/memory";
import type { FuzzTarget } from "../target.js";
import { must } from "../invariant.js";

const PAGE_WORDS = 1024;
const VCPUS = 4;
/** dom0, an HVM guest, a PV domain, a second privileged domain (another emulator's). */
const DOMAINS: readonly number[] = [0, 1, 2, 3];
const HVM = 1;
const ERRNOS = new Set(
  ["EPERM", "ENOENT", "ESRCH", "EFAULT", "EINVAL", "EEXIST", "ENOSPC", "ENOMEM", "EOPNOTSUPP", "E2BIG"].map(
    (e) => -XenErrno[e as keyof typeof XenErrno],
  ),
);

interface World {
  store: PageStore;
  ev: EventChannels;
  servers: IoreqServers;
  domains: DmOpDomains;
  xenFrames0: number;
  ports0: number;
}
let shared: World | undefined;

/** One page store and table for every input (a store per input would cost more than the input). */
function world(): World {
  if (shared) return shared;
  const store = PageStore.create({ frames: 1024 });
  const ev = new EventChannels(store, { notify: () => {} });
  for (const d of DOMAINS) {
    store.createDomain(d, { privileged: d === 0 || d === 3, hvm: d === HVM || d === 3 });
    ev.initDomain(d, { sharedInfoFrame: store.allocFrame(d), maxVcpus: VCPUS });
  }
  const servers = new IoreqServers(store, ev);
  const domains: DmOpDomains = {
    exists: (d) => store.domainExists(d),
    isHvm: (d) => store.isHvm(d),
    mayDmOp: (c) => store.isPrivileged(c),
    vcpus: (d) => (d === HVM ? 2 : 1),
  };
  shared = { store, ev, servers, domains, xenFrames0: xenFrames(store), ports0: portsOf(ev) };
  return shared;
}

function xenFrames(store: PageStore): number {
  let n = 0;
  for (let f = 1; f < store.nrFrames; f++) if (store.frameOwner(f) === DOMID_XEN) n++;
  return n;
}
function portsOf(ev: EventChannels): number {
  return DOMAINS.reduce((n, d) => n + ev.portCount(d), 0);
}

function pageOf(bytes: Uint8Array): Int32Array {
  const i32 = new Int32Array(PAGE_WORDS);
  new Uint8Array(i32.buffer).set(bytes.subarray(0, PAGE_WORDS * 4));
  return i32;
}

function bufferedPage(bytes: Uint8Array): void {
  const i32 = pageOf(bytes);
  const r = dmDrainBuffered(i32, 0, (b) => {
    must([1, 2, 4, 8].includes(b.size), `buffered size ${b.size}`);
    must(b.addr >= 0 && b.addr < 1 << 20, `buffered address ${b.addr}`);
    must(b.data >= 0n && b.data < 1n << 64n, "buffered data is a u64");
  });
  must(r.handled <= IOREQ_BUFFER_SLOT_NUM, `${r.handled} handled from one page of 511 slots`);
  if (r.status === "ok") must(bufPending(i32, 0) === 0, "a drained ring is empty");
  else must(r.status === "bad-pointers" || r.status === "incomplete", `drain status ${r.status}`);
  // Xen's sends on what is left (pointers as the emulator left them)
  for (const handling of [HVM_IOREQSRV_BUFIOREQ_LEGACY, HVM_IOREQSRV_BUFIOREQ_ATOMIC])
    for (const size of [1, 4, 8, 3]) {
      const before = bufPending(i32, 0);
      const res = xenBufSend(
        i32,
        0,
        {
          type: IOREQ_TYPE_PIO,
          addr: 0x3c0n,
          data: 0x0123_4567_89ab_cdefn,
          size,
          count: 1,
          dataIsPtr: false,
        },
        handling,
      );
      must(res === "handled" || res === "unhandled", `send of ${size} bytes: ${res}`);
      if (res === "handled") {
        must(before + (size === 8 ? 2 : 1) <= IOREQ_BUFFER_SLOT_NUM, "queued only with room");
        must(bufPending(i32, 0) === before + (size === 8 ? 2 : 1), "one or two slots queued");
      }
      if (size === 3) must(res === "unhandled", "3 bytes do not fit a buf_ioreq");
    }
}

function synchronousPage(bytes: Uint8Array): void {
  const i32 = pageOf(bytes);
  for (let v = 0; v < VCPUS; v++) {
    const slot = ioreqSlot(0, v);
    const ctrl = slot + IOREQ_CTRL_WORD;
    const saved = i32.slice(slot, slot + 8);
    for (const prev of [STATE_IOREQ_NONE, STATE_IOREQ_READY, STATE_IOREQ_INPROCESS, STATE_IORESP_READY]) {
      i32.set(saved, slot);
      const seen = ctrlState(i32[ctrl]!);
      const r = xenCheckIoreq(i32, slot, prev);
      if (seen === STATE_IOREQ_NONE) must(r.kind === "done", "NONE: the emulator went away");
      else if (seen < prev) must(r.kind === "crash", `state ${seen} after ${prev}: crash`);
      else if (seen === STATE_IORESP_READY) {
        must(r.kind === "done", "IORESP_READY: done");
        must(ctrlState(i32[ctrl]!) === STATE_IOREQ_NONE, "the slot is NONE again");
      } else if (seen === STATE_IOREQ_READY || seen === STATE_IOREQ_INPROCESS)
        must(r.kind === "wait", `state ${seen}: wait`);
      else must(r.kind === "crash", `state ${seen}: not a state, crash`);
    }
    i32.set(saved, slot);
    const req = dmTakeIoreq(i32, slot);
    if (ctrlState(saved[IOREQ_CTRL_WORD]!) === STATE_IOREQ_READY) {
      must(req !== undefined, "a READY slot is taken");
      must(ctrlState(i32[ctrl]!) === STATE_IOREQ_INPROCESS, "taken: INPROCESS");
    } else must(req === undefined, "only READY is taken");
  }
}

function dmOps(records: Array<[number, number, Uint8Array]>): void {
  const w = world();
  try {
    for (const [callerIx, targetIx, buf] of records) {
      const caller = DOMAINS[callerIx % DOMAINS.length] as number;
      const target = targetIx % 8 === 7 ? 77 : (DOMAINS[targetIx % DOMAINS.length] as number);
      const r = doDmOp(w.servers, w.domains, caller, target, buf);
      must(r.rc === 0 || ERRNOS.has(r.rc), `dm_op rc ${r.rc}`);
      must(r.buf.length === buf.length, "the buffer comes back at its size");
    }
    const list = w.servers.servers(HVM);
    must(list.length <= 8, `${list.length} servers`);
    must(new Set(list.map((s) => s.id)).size === list.length, "server ids unique");
    for (const s of list) {
      must(s.id >= 0 && s.id < 8, `server id ${s.id}`);
      for (const set of [s.ranges.port, s.ranges.memory, s.ranges.pci]) {
        must(set.length <= MAX_NR_IO_RANGES, `${set.length} ranges`);
        for (let i = 0; i < set.length; i++) {
          const x = set[i]!;
          must(x.start <= x.end, "a range starts before it ends");
          if (i > 0) must(set[i - 1]!.end < x.start, "ranges sorted and disjoint");
        }
      }
    }
  } finally {
    // teardown as on domain death; nothing may stay behind
    for (const s of w.servers.servers(HVM)) w.servers.releaseResource(s.emulator, HVM, s.id);
    w.servers.destroyAll(HVM);
    w.servers.destroyAll(3);
    w.servers.releaseAllOf(0);
    w.servers.releaseAllOf(3);
  }
  must(w.servers.acquiredCount() === 0, "no acquired page left");
  must(portsOf(w.ev) === w.ports0, "no event channel left");
  must(xenFrames(w.store) === w.xenFrames0, "no DOMID_XEN frame left");
}

const TAG_BUFFERED = 0;
const TAG_SYNC = 1;
const TAG_DMOP = 2;

function record(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + body.length);
  out[0] = tag;
  out[1] = body.length & 0xff;
  out[2] = body.length >> 8;
  out.set(body, 3);
  return out;
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const dmop = (caller: number, target: number, buf: Uint8Array) =>
  record(TAG_DMOP, concat([Uint8Array.of(caller, target), buf]));

function seedPages(): Uint8Array[] {
  // a buffered page: read 509, write 512 (wrapped), a 1-byte and an 8-byte entry
  // (slots 509 and 510 lie beyond the record's bytes: zero entries; slot 0 wraps to word 2)
  const b = new Int32Array(16);
  b[0] = 509;
  b[1] = 512;
  // a 1-byte port write and an 8-byte VGA write in two slots (type | dir << 9 | size << 10 | addr << 12)
  const word0 = (code: number, addr: number) => IOREQ_TYPE_PIO | (1 << 9) | (code << 10) | (addr << 12);
  const buf = new Int32Array(10);
  buf[0] = 1;
  buf[1] = 4;
  buf[2] = word0(0, 0x3c8);
  buf[3] = 0x11;
  buf[4] = word0(3, 0xa0000);
  buf[5] = 0x22;
  buf[6] = word0(3, 0xa0000);
  buf[7] = 0x33;
  // a synchronous page: vCPU 0 READY (a 2-byte port read), vCPU 1 IORESP_READY, vCPU 2 a bad state
  const sync = new Int32Array(32);
  const flags = (state: number, read: boolean) =>
    (state << 16) | (read ? 1 << 21 : 0) | (IOREQ_TYPE_PIO << 24);
  sync[0] = 0x3f8;
  sync[4] = 1;
  sync[5] = 2;
  sync[6] = 9;
  sync[7] = flags(STATE_IOREQ_READY, true);
  sync[8 + 2] = 0x41;
  sync[8 + 7] = flags(STATE_IORESP_READY, true);
  sync[16 + 7] = flags(7, false) | (IOREQ_TYPE_COPY << 24);
  return [
    record(TAG_BUFFERED, new Uint8Array(buf.buffer)),
    record(TAG_BUFFERED, new Uint8Array(b.buffer)),
    record(TAG_SYNC, new Uint8Array(sync.buffer)),
  ];
}

function seedDmOps(): Uint8Array[] {
  // QEMU's registration order, then a second server, overlaps, inverted ranges, a stranger's ops
  return [
    dmop(0, 1, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_ATOMIC)),
    dmop(0, 1, encodeGetIoreqServerInfo(0)),
    dmop(0, 1, encodeIoRange(true, 0, XEN_DMOP_IO_RANGE_PORT, 0x3f8n, 0x3ffn)),
    dmop(0, 1, encodeIoRange(true, 0, XEN_DMOP_IO_RANGE_MEMORY, 0xa0000n, 0xbffffn)),
    dmop(0, 1, encodeIoRange(true, 0, XEN_DMOP_IO_RANGE_PCI, 0n, 0x18n << 8n)),
    dmop(0, 1, encodeSetIoreqServerState(0, true)),
    dmop(3, 1, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_OFF)),
    dmop(3, 1, encodeIoRange(true, 1, XEN_DMOP_IO_RANGE_PORT, 0xc100n, 0xc107n)),
    dmop(3, 1, encodeIoRange(true, 0, XEN_DMOP_IO_RANGE_PORT, 0x60n, 0x64n)),
    dmop(0, 1, encodeIoRange(true, 0, XEN_DMOP_IO_RANGE_PORT, 0x3fan, 0x400n)),
    dmop(0, 1, encodeIoRange(false, 0, XEN_DMOP_IO_RANGE_PORT, 0x400n, 0x3f8n)),
    dmop(1, 1, encodeCreateIoreqServer(HVM_IOREQSRV_BUFIOREQ_LEGACY)),
    dmop(2, 1, encodeDestroyIoreqServer(0)),
    dmop(0, 1, encodeDestroyIoreqServer(0)),
  ];
}

const SEEDS = [concat(seedPages()), concat(seedDmOps()), concat([...seedDmOps(), ...seedPages()])];

export const ioreqTarget: FuzzTarget = {
  name: "ioreq",
  description:
    "ioreq pages as Xen and the emulator read them (buffered ring, synchronous slots) and HYPERVISOR_dm_op buffers against an ioreq server table",
  corpusDir: "packages/ioreq/src/fuzz-corpus/ioreq",
  maxLength: 8 * 1024,
  seeds: () => SEEDS,
  run(input) {
    const ops: Array<[number, number, Uint8Array]> = [];
    let o = 0;
    while (o + 3 <= input.length) {
      const tag = input[o]!;
      const len = input[o + 1]! | (input[o + 2]! << 8);
      const body = input.subarray(o + 3, Math.min(input.length, o + 3 + len));
      o += 3 + len;
      switch (tag % 3) {
        case TAG_BUFFERED:
          bufferedPage(body);
          break;
        case TAG_SYNC:
          synchronousPage(body);
          break;
        default:
          if (body.length >= 2) ops.push([body[0]!, body[1]!, body.subarray(2)]);
      }
    }
    dmOps(ops);
  },
};
