// XenCtrl's adapter for a host process without the hypervisor (docs/data-plane.md): everything on
// the data path goes through this host's link area, which the page-server's link thread carries to
// the hypervisor's host — a kick is a SEND record (synchronous, no promise), a grant map/unmap or an
// end-access is a REQUEST answered in a mailbox, events are delivered into this host's shadow
// shared_info, and guest memory is this host's replica frames (written back by markWritten).
import { GNTMAP_readonly, GNTST_bad_gntref, GNTST_general_error, GNTST_okay, XenErrno } from "@xensim/abi";
import { unmaskPort, wakeWordIndex } from "@xensim/evtchn";
import { grantAccess, localMapRefusal } from "@xensim/gnttab";
import {
  type CopyOp,
  decodeForeignMapReply,
  decodeMapReply,
  decodeStatuses,
  encodeCopyRequest,
  decodeRc,
  decodeUnmapReply,
  encodeForeignMapRequest,
  encodeMapRequest,
  type ForeignMapRequest,
  foreignMapSigned,
  type ForeignResource,
  encodeUnmapRequest,
  OP_COPY,
  OP_END_ACCESS,
  OP_FOREIGN_MAP,
  OP_FOREIGN_UNMAP,
  OP_HOME,
  OP_MAP,
  OP_PLACE,
  OP_SYNC,
  OP_UNMAP,
} from "@xensim/link";
import { type LinkArea, type MemView, PAGE_SIZE, type PageStore } from "@xensim/memory";
import { signLinkRequest, threadLinkPrincipal } from "@xensim/security";
import { EvtchnPort, type EvtchnPortOptions } from "./evtchn-port.js";

type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** How long a request waits for the host's link thread to start (the workers start together). */
const LINK_THREAD_WAIT_MS = 30_000;
/** Refusals remembered for local grant checks. */
const REFUSED_CACHE = 4096;
/** Refs per map request (its reply must fit a mailbox). */
const MAP_CHUNK = 256;
/** Ops per copy request (30 bytes each; the reply, 4 per op, fits a mailbox). */
const COPY_CHUNK = 256;

export interface LinkMapResult {
  results: Array<{ status: number; handle: number; frame: number; devBusAddr: number }>;
  view: MemView | undefined;
}

/** A shadow shared_info of this host (where the link delivers a domain's events): its view, the
 * wake word of a vCPU and which vCPU each port notifies (the byte table in the frame after it). */
export interface ShadowSharedInfo {
  frame: number;
  view: MemView;
  vcpuOf: (port: number) => number;
}

export function shadowSharedInfo(store: PageStore, frame: number): ShadowSharedInfo {
  const u8 = store.u8;
  const base = (frame + 1) * PAGE_SIZE;
  return {
    frame,
    view: store.viewOfFrames([frame]),
    vcpuOf: (port) => Math.max(0, Atomics.load(u8, base + (port & 4095)) - 1),
  };
}

export class LinkPlane {
  readonly area: LinkArea;
  /** Grant map refs refused here from the replica of the granter's table (never asked). */
  localRefusals = 0;
  /** dom/ref/flags → the entry word the authority refused a map of (local grant checks). */
  private readonly refused = new Map<string, number>();
  private homeReady: Promise<void> | undefined;
  private readonly placed = new Set<string>();

  constructor(
    readonly store: PageStore,
    readonly domid: number,
    hypervisorHost: string,
    private readonly timeoutMs: number,
  ) {
    this.area = store.ensureLink();
    this.area.setHypervisorPeer(this.area.peerIndex(hypervisorHost));
  }

  /** A request through a mailbox of this host's link area; resolves with the reply payload. */
  async request(op: number, payload: Uint8Array, caller = this.domid): Promise<Uint8Array> {
    const area = this.area;
    let mb = area.takeMailbox();
    const deadline = performance.now() + this.timeoutMs;
    while (mb < 0) {
      if (performance.now() > deadline) throw new Error("link: no free mailbox");
      await new Promise((r) => setTimeout(r, 1));
      mb = area.takeMailbox();
    }
    // The host's workers start together: a service may ask before the page-server's link thread
    // runs (xenstored re-attaching restored domains at once). Wait for it, within the deadline.
    const linkDeadline = Math.min(deadline, performance.now() + LINK_THREAD_WAIT_MS);
    while (!area.appendRequest(mb, op, caller, payload)) {
      if (performance.now() > linkDeadline) {
        area.releaseMailbox(mb);
        throw new Error("link: no link thread in this host process (is a page-server running?)");
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const word = area.mboxWord(mb);
    const i32 = this.store.i32;
    // A pending waitAsync does not keep Node 20's event loop alive: hold a timer while waiting.
    const keep = setInterval(() => {}, 1000);
    try {
      while (!area.replied(mb)) {
        if (performance.now() > deadline) {
          // The mailbox stays taken: a late reply must not land in someone else's request.
          throw new Error(`link: request ${op} timed out`);
        }
        const w = waitAsync(i32, word, 1, 100);
        if (w.async) await w.value;
      }
      const r = area.reply(mb);
      area.releaseMailbox(mb);
      return r;
    } finally {
      clearInterval(keep);
    }
  }

  /**
   * The same request, blocking this thread until the reply (Atomics.wait: a worker thread only — a
   * privcmd ioctl as QEMU's mapcache makes one on a miss inside an emulation).
   */
  requestSync(op: number, payload: Uint8Array, caller = this.domid): Uint8Array {
    const area = this.area;
    const deadline = performance.now() + this.timeoutMs;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let mb = area.takeMailbox();
    while (mb < 0) {
      if (performance.now() > deadline) throw new Error("link: no free mailbox");
      Atomics.wait(pause, 0, 0, 1);
      mb = area.takeMailbox();
    }
    const linkDeadline = Math.min(deadline, performance.now() + LINK_THREAD_WAIT_MS);
    while (!area.appendRequest(mb, op, caller, payload)) {
      if (performance.now() > linkDeadline) {
        area.releaseMailbox(mb);
        throw new Error("link: no link thread in this host process (is a page-server running?)");
      }
      Atomics.wait(pause, 0, 0, 20);
    }
    const word = area.mboxWord(mb);
    while (!area.replied(mb)) {
      // The mailbox stays taken on a timeout: a late reply must not land in someone else's request.
      if (performance.now() > deadline) throw new Error(`link: request ${op} timed out`);
      Atomics.wait(this.store.i32, word, 1, 100);
    }
    const r = area.reply(mb);
    area.releaseMailbox(mb);
    return r;
  }

  /** foreignMap, blocking (see requestSync). */
  foreignMapSync(
    dom: number,
    gfns: readonly number[],
    opts: { readonly?: boolean } = {},
  ): { handle: number; frames: number[] } | number {
    const payload = this.signedForeignMap({
      dom,
      readonly: opts.readonly ?? false,
      gfns: [...gfns],
      watermarks: [],
    });
    const r = decodeForeignMapReply(this.requestSync(OP_FOREIGN_MAP, payload));
    if (r.rc !== 0) return r.rc;
    return { handle: r.handle, frames: r.origins };
  }

  /**
   * A foreign-map request signed by this thread's service (its runtime-given key): the host's link
   * thread vouches for the service to the hypervisor's host, which decides what that service may
   * map (XSM). Unsigned in a thread the runtime did not start: refused by a runtime's host.
   */
  private signedForeignMap(q: ForeignMapRequest): Uint8Array {
    const principal = threadLinkPrincipal();
    if (!principal) return encodeForeignMapRequest(q);
    const mac = signLinkRequest(principal, foreignMapSigned(this.domid, principal.service, q));
    return encodeForeignMapRequest({ ...q, principal: { service: principal.service, mac } });
  }

  /** The domain's frames are replicated here (it is homed on this host); once. */
  ensureHome(): Promise<void> {
    this.homeReady ??= this.request(OP_HOME, new Uint8Array(0)).then((r) => {
      const rc = decodeRc(r);
      if (rc !== 0) throw new Error(`link: home subscription refused (rc ${rc})`);
    });
    return this.homeReady;
  }

  /** Everything the hypervisor's host queued before now (frames it allocated for us) is here. */
  async sync(): Promise<void> {
    await this.request(OP_SYNC, new Uint8Array(0));
  }

  /** EVTCHNOP_send: a SEND record to the hypervisor's host (no promise, no call). */
  kick(port: number): number {
    return this.area.appendSend(this.domid, port) ? 0 : -XenErrno.ENOTCONN;
  }

  private shadow(domid: number): ShadowSharedInfo {
    return shadowSharedInfo(this.store, this.area.shadowOf(domid, true));
  }

  /**
   * Register (domid, vcpu)'s events as received here (dom0's vCPU) and return the frame of this
   * host's shadow shared_info, for a receiver of its own on another thread (shadowSharedInfo): the
   * link thread sets the pending bits there and Atomics.notify's the vCPU's wake word.
   */
  async placeEvents(domid: number, vcpu: number): Promise<number> {
    const key = `${domid}/${vcpu}`;
    if (!this.placed.has(key)) {
      await (domid === this.domid && domid !== 0 ? this.ensureHome() : this.place(domid, vcpu));
      this.placed.add(key);
    }
    return this.area.shadowOf(domid, true);
  }

  /** The receiver of `domid`'s events on `vcpu` here, on this host's shadow shared_info. */
  waitForEvents(
    domid: number,
    handler: (port: number) => void,
    opts: { vcpu?: number; slowScanMs?: number; onError?: (err: unknown, port: number) => void },
    onError: (err: unknown) => void,
  ): EvtchnPort {
    const vcpu = opts.vcpu ?? 0;
    const s = this.shadow(domid);
    const po: EvtchnPortOptions = {
      domid,
      vcpu,
      sharedInfo: s.view,
      notifyVcpu: s.vcpuOf,
      wake: { i32: this.store.i32, index: wakeWordIndex(s.frame, vcpu) },
    };
    if (opts.slowScanMs !== undefined) po.slowScanMs = opts.slowScanMs;
    if (opts.onError) po.onError = opts.onError;
    const port = new EvtchnPort(po, handler);
    // Where the events of (domid, vcpu) go: a domain homed here gets them by its home; dom0's
    // services register the vCPU they receive on.
    const key = `${domid}/${vcpu}`;
    if (!this.placed.has(key)) {
      this.placed.add(key);
      const p = domid === this.domid && domid !== 0 ? this.ensureHome() : this.place(domid, vcpu);
      p.catch((err: unknown) => {
        this.placed.delete(key);
        onError(err);
      });
    }
    return port;
  }

  private async place(domid: number, vcpu: number): Promise<void> {
    const rc = decodeRc(await this.request(OP_PLACE, Uint8Array.of(vcpu), domid));
    if (rc !== 0) throw new Error(`link: placement of (${domid}, vCPU ${vcpu}) refused (rc ${rc})`);
  }

  /** EVTCHNOP_unmask on this host's shadow: an event that came while masked is raised now. */
  unmask(domid: number, port: number): number {
    const s = this.shadow(domid);
    const vcpu = s.vcpuOf(port);
    if (unmaskPort(s.view, vcpu, port)) Atomics.notify(this.store.i32, wakeWordIndex(s.frame, vcpu));
    return 0;
  }

  /**
   * Grant maps by the hypervisor's host. With `granterTable` (this host's replica of the granter's
   * table) a map the replica shows invalid is refused here with the same GNTST_* (localMapRefusal)
   * once the authority has refused it for the same entry word: the replica may lag a grant whose ref
   * reached us by another path (xenstore), so an entry that looks invalid is asked about once, and
   * refused locally from then on while the entry stays as it was (a flood of bad maps stays here).
   * A map asking neither host nor device mapping is refused here at once (no entry involved).
   */
  async map(
    dom: number,
    refs: readonly number[],
    flags: number,
    granterTable?: { view: MemView; nrEntries: number },
  ): Promise<LinkMapResult> {
    if (granterTable) {
      const words = refs.map((ref) =>
        Number.isInteger(ref) && ref >= 0 && ref < granterTable.nrEntries
          ? granterTable.view.atomicLoad32(ref * 8)
          : undefined,
      );
      const local = refs.map((ref, i) => {
        const status = localMapRefusal(words[i], this.domid, flags);
        if (status === undefined || status === GNTST_bad_gntref) return status;
        return this.refused.get(`${dom}/${ref}/${flags}`) === words[i] ? status : undefined;
      });
      const asked = refs.filter((_, i) => local[i] === undefined);
      if (asked.length < refs.length) {
        this.localRefusals += refs.length - asked.length;
        const answered =
          asked.length > 0 ? await this.map(dom, asked, flags) : { results: [], view: undefined };
        let k = 0;
        const results = local.map((status) =>
          status !== undefined ? { status, handle: -1, frame: 0, devBusAddr: 0 } : answered.results[k++]!,
        );
        return { results, view: undefined };
      }
      const r = await this.map(dom, refs, flags);
      // The authority's refusals of entries the replica also shows invalid: refused here next time.
      refs.forEach((ref, i) => {
        const st = r.results[i]!.status;
        const key = `${dom}/${ref}/${flags}`;
        if (st !== GNTST_okay && st === localMapRefusal(words[i], this.domid, flags)) {
          if (this.refused.size >= REFUSED_CACHE) this.refused.delete(this.refused.keys().next().value!);
          this.refused.set(key, words[i]!);
        } else this.refused.delete(key);
      });
      return r;
    }
    const results: LinkMapResult["results"] = [];
    const locals: number[] = [];
    for (let i = 0; i < refs.length; i += MAP_CHUNK) {
      const chunk = refs.slice(i, i + MAP_CHUNK);
      const out = await this.request(OP_MAP, encodeMapRequest({ dom, flags, refs: chunk, watermarks: [] }));
      const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
      const n = dv.getUint32(out.length - 4 - 4 * chunk.length, true);
      const body = out.subarray(0, out.length - 4 - 4 * n);
      const r = decodeMapReply(body);
      for (let k = 0; k < r.results.length; k++) {
        const x = r.results[k]!;
        const status = x.status === -1 ? GNTST_general_error : x.status;
        results.push({
          status,
          handle: status === GNTST_okay ? x.handle : -1,
          frame: x.origin,
          devBusAddr: 0,
        });
        locals.push(dv.getUint32(body.length + 4 + 4 * k, true));
      }
    }
    if (results.length === 0 || results.some((x) => x.status !== GNTST_okay))
      return { results, view: undefined };
    return { results, view: this.store.viewOfFrames(locals, { readonly: (flags & GNTMAP_readonly) !== 0 }) };
  }

  async unmap(handles: readonly number[]): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < handles.length; i += 1024) {
      const r = decodeUnmapReply(
        await this.request(OP_UNMAP, encodeUnmapRequest(handles.slice(i, i + 1024))),
      );
      out.push(...r.statuses.map((s) => (s === -1 ? GNTST_general_error : s)));
    }
    return out;
  }

  /**
   * GNTTABOP_copy, executed by the hypervisor's host after the writes this host made or had seen;
   * what it writes reaches this host before the answer. GNTST_* per op.
   */
  async copy(ops: readonly CopyOp[]): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < ops.length; i += COPY_CHUNK) {
      const chunk = ops.slice(i, i + COPY_CHUNK);
      const reply = await this.request(OP_COPY, encodeCopyRequest({ ops: chunk, watermarks: [] }));
      let statuses: number[];
      try {
        statuses = decodeStatuses(reply);
      } catch {
        statuses = chunk.map(() => GNTST_general_error);
      }
      out.push(...statuses);
    }
    return out;
  }

  /**
   * A foreign mapping (privcmd's xenforeignmemory_map of `dom`'s gfns, or of an ioreq server's
   * pages with `resource`) done by the hypervisor's host for this host: the frames are replicated
   * here, this host's writes to them go back on the link. Resolves to -errno when refused.
   */
  async foreignMap(
    dom: number,
    gfns: readonly number[],
    opts: { readonly?: boolean; resource?: ForeignResource } = {},
  ): Promise<{ handle: number; frames: number[] } | number> {
    const q = { dom, readonly: opts.readonly ?? false, gfns: [...gfns], watermarks: [] };
    const payload = this.signedForeignMap(opts.resource ? { ...q, resource: opts.resource } : q);
    if (payload.length > 16000) return -XenErrno.E2BIG;
    let r;
    try {
      r = decodeForeignMapReply(await this.request(OP_FOREIGN_MAP, payload));
    } catch (err) {
      if (String(err).includes("timed out")) return -XenErrno.ETIMEDOUT;
      throw err;
    }
    if (r.rc !== 0) return r.rc;
    return { handle: r.handle, frames: r.origins };
  }

  /** foreignUnmap, blocking (see requestSync). */
  foreignUnmapSync(handle: number): number {
    return decodeRc(this.requestSync(OP_FOREIGN_UNMAP, new Uint8Array(new Uint32Array([handle]).buffer)));
  }

  /** The unmap of a foreign mapping: 0, or -EINVAL when the hypervisor's host no longer has it. */
  async foreignUnmap(handle: number): Promise<number> {
    const r = await this.request(OP_FOREIGN_UNMAP, new Uint8Array(new Uint32Array([handle]).buffer));
    return decodeRc(r);
  }

  /** The granter's table here: replicas of its grant frames (origin frames from the hypervisor). */
  async grantTable(originFrames: readonly number[]): Promise<MemView> {
    await this.ensureHome();
    // Frames the table grew by are new at the hypervisor's host: their replicas come on the link.
    if (originFrames.some((f) => this.area.replicaOf(f) === 0)) await this.sync();
    return this.localView(originFrames);
  }

  /** A view of this host's replicas of origin frames (they must exist: home subscription, sync). */
  localView(originFrames: readonly number[], readonly = false): MemView {
    const local = originFrames.map((f) => this.area.replicaOf(f));
    if (local.some((f) => f === 0)) throw new Error("link: a frame of the domain has no replica here");
    return this.store.viewOfFrames(local, { readonly });
  }

  async grantAccess(
    table: MemView,
    ref: number,
    domid: number,
    gfn: number,
    readonly: boolean,
  ): Promise<number> {
    try {
      grantAccess(table, ref, domid, gfn, readonly);
      return 0;
    } catch {
      return -XenErrno.EINVAL;
    }
  }

  async endAccess(ref: number): Promise<boolean> {
    const r = await this.request(OP_END_ACCESS, new Uint8Array(new Uint32Array([ref]).buffer));
    return r[0] === 1;
  }
}
