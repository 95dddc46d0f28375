// Test rigs over the simulated network: the hypervisor's host H (a Hypervisor core on its store,
// a guest domU, dom0), a backend host B (dom0's vCPU 2 placed there) and, for three hosts, a guest
// host G (domU homed there). The "threads" of a host are attachments of its buffer, using the link
// area as the drivers' adapters do: markWritten, SEND records, REQUESTs answered in mailboxes.
import { GNTMAP_host_map } from "@xensim/abi";
import { EventChannels, scanPending } from "@xensim/evtchn";
import { grantAccess } from "@xensim/gnttab";
import { Hypervisor } from "@xensim/hypervisor";
import { type LinkArea, type MemView, PAGE_SIZE, type PageStore } from "@xensim/memory";
import { seededRandom } from "@xensim/testkit";
import {
  decodeMapReply,
  encodeMapRequest,
  OP_HOME,
  OP_MAP,
  OP_PLACE,
  OP_UNMAP,
  encodeUnmapRequest,
  decodeUnmapReply,
} from "../requests.js";
import { type SimHost, SimNet } from "./sim.js";

export const BLKBACK_VCPU = 2;

/** A thread of a host that talks to the link area (the part XenCtrl does in a remote host). */
export class LinkThread {
  readonly store: PageStore;
  readonly area: LinkArea;
  constructor(
    readonly host: SimHost,
    readonly net: SimNet,
  ) {
    this.store = host.thread();
    this.area = this.store.link!;
  }

  /** A request through a mailbox; runs the network until the reply is there. */
  request(op: number, caller: number, payload: Uint8Array, maxMs = 20_000): Uint8Array {
    const mb = this.area.takeMailbox();
    if (mb < 0) throw new Error("no mailbox");
    if (!this.area.appendRequest(mb, op, caller, payload)) throw new Error("no link thread");
    if (!this.net.run(maxMs, () => this.area.replied(mb))) throw new Error(`no reply to op ${op}`);
    const r = this.area.reply(mb);
    this.area.releaseMailbox(mb);
    return r;
  }

  map(
    caller: number,
    dom: number,
    refs: number[],
    flags = GNTMAP_host_map,
  ): { statuses: number[]; handles: number[]; locals: number[] } {
    const out = this.request(OP_MAP, caller, encodeMapRequest({ dom, flags, refs, watermarks: [] }));
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const n = dv.getUint32(out.length - 4 - 4 * refs.length, true);
    const body = out.subarray(0, out.length - 4 - 4 * n);
    const r = decodeMapReply(body);
    const locals = Array.from({ length: n }, (_, i) => dv.getUint32(body.length + 4 + 4 * i, true));
    return { statuses: r.results.map((x) => x.status), handles: r.results.map((x) => x.handle), locals };
  }

  unmap(caller: number, handles: number[]): { statuses: number[]; unsubscribed: number[] } {
    return decodeUnmapReply(this.request(OP_UNMAP, caller, encodeUnmapRequest(handles)));
  }

  place(domid: number, vcpu: number): void {
    this.request(OP_PLACE, domid, Uint8Array.of(vcpu));
  }

  home(domid: number): void {
    this.request(OP_HOME, domid, new Uint8Array(0));
  }

  /** The shadow shared_info of `domid` here (undefined until an event came). */
  shadow(domid: number): { view: MemView; vcpuOf: (port: number) => number } | undefined {
    const f = this.area.shadowOf(domid, false);
    if (!f) return undefined;
    const u8 = this.store.u8;
    return {
      view: this.store.viewOfFrames([f]),
      vcpuOf: (port) => Math.max(0, Atomics.load(u8, (f + 1) * PAGE_SIZE + port) - 1),
    };
  }

  /** Ports pending for `domid` on `vcpu` in this host's shadow (consumed). */
  events(domid: number, vcpu: number): number[] {
    const s = this.shadow(domid);
    if (!s) return [];
    const out: number[] = [];
    scanPending(s.view, vcpu, (p) => out.push(p), { full: true, notifyVcpu: s.vcpuOf });
    return out;
  }
}

export interface TwoHosts {
  net: SimNet;
  H: SimHost;
  B: SimHost;
  hv: Hypervisor;
  domU: number;
  /** The guest at H: its own attachment and event channels (the guest's thread). */
  guest: { store: PageStore; ev: EventChannels; port: number };
  /** dom0's port bound to the guest's (moved to vCPU 2, placed at B). */
  backPort: number;
  back: LinkThread;
  /** Frames the guest granted: ring (ref 8) and data (ref 9), and a third (ref 10) read-only. */
  frames: { ring: number; data: number; spare: number };
}

/** H (hypervisor + guest) and B (dom0's backend), connected; the guest grants refs 8, 9, 10. */
export function twoHosts(seed: number, opts: { maxDelayMs?: number } = {}): TwoHosts {
  const net = new SimNet(seededRandom(seed), opts.maxDelayMs ?? 1);
  const H = net.add("hostH", 8192);
  const B = net.add("hostB", 4096);
  const hv = new Hypervisor(H.thread(), { hostId: "hostH" });
  hv.bootDom0({ memoryMib: 1, vcpus: 4 });
  const { domid: domU } = hv.createDomain(0, { memoryMib: 1 });
  hv.unpause(0, domU);
  H.start();
  B.start();
  B.engine.setHypervisorHost("hostH");
  const gstore = H.thread();
  const ev = new EventChannels(gstore);
  const table = hv.gt.sharedView(domU);
  for (const [ref, gfn, ro] of [
    [8, 0, false],
    [9, 1, false],
    [10, 2, true],
  ] as const)
    grantAccess(table, ref, 0, gfn, ro);
  const { port } = hv.evtchnAllocUnbound(domU, domU, 0);
  const bound = hv.evtchnBindInterdomain(0, domU, port);
  const back = new LinkThread(B, net);
  back.place(0, BLKBACK_VCPU);
  hv.evtchnBindVcpu(0, bound.port, BLKBACK_VCPU);
  return {
    net,
    H,
    B,
    hv,
    domU,
    guest: { store: gstore, ev, port },
    backPort: bound.port,
    back,
    frames: {
      ring: hv.gfnToFrame(0, domU, [0]).frames[0]!,
      data: hv.gfnToFrame(0, domU, [1]).frames[0]!,
      spare: hv.gfnToFrame(0, domU, [2]).frames[0]!,
    },
  };
}

/** Deterministic content of round `k` at `salt` (so a reader can tell which round it sees). */
export function pattern(k: number, salt: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (k * 2654435761 + salt * 40503) >>> 0;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
