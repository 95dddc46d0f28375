// The xenstore engine: C xenstored's request semantics (tools/xenstored core.c, watch.c,
// transaction.c, domain.c, control.c) over an in-memory tree. No I/O, no clock, no randomness:
// requests in, replies + watch events + journal mutations + effects out.
//
// This file only dispatches: each request type's handler lives with its subject (nodes.ts,
// watches.ts, transactions.ts, domains.ts, control.ts), staged tree access in request.ts, the
// shared state in state.ts, snapshot.ts and journal.ts for persistence.

import {
  DOMID_SELF,
  XENSTORE_PAYLOAD_MAX,
  XS_EQUOTA,
  XS_GET_QUOTA,
  XS_SET_QUOTA,
  XsType,
  xsTypeName,
} from "@xensim/abi";
import { TRACE_XS, tracer } from "@xensim/trace";
import { domainMemory, quotaUsage } from "./accounting.js";
import { commitRequest } from "./commit.js";
import { handleControl, handleGetQuota, handleSetQuota } from "./control.js";
import {
  domainGone,
  domainShutdown,
  handleGetDomainPath,
  handleIntroduce,
  handleIsDomainIntroduced,
  handleRelease,
  handleResume,
  handleSetTarget,
} from "./domains.js";
import { XsError } from "./errors.js";
import { applyMutations } from "./journal.js";
import {
  handleDirectory,
  handleDirectoryPart,
  handleGetPerms,
  handleMkdir,
  handleRead,
  handleRm,
  handleSetPerms,
  handleWrite,
} from "./nodes.js";
import { XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN } from "./path.js";
import { textReply } from "./payload.js";
import type { XsPerm } from "./perms.js";
import { DEFAULT_QUOTAS, DEFAULT_SOFT_MEMORY_QUOTA, type Quotas, quotaExceeded } from "./quota.js";
import { Request } from "./request.js";
import { restoreSnapshot, takeSnapshot } from "./snapshot.js";
import { type Connection, EngineState, type Transaction } from "./state.js";
import { handleTransactionEnd, handleTransactionStart } from "./transactions.js";
import { checkTree } from "./tree.js";
import type {
  ConnectionInfo,
  ConnectOptions,
  ConnId,
  EngineOptions,
  Mutation,
  Output,
  QuotaUsage,
  XenstoreSnapshot,
} from "./types.js";
import { handleResetWatches, handleUnwatch, handleWatch } from "./watches.js";
import type { XsMessage } from "./wire.js";

/** DOMID_SELF (xen.h): IS_DOMAIN_INTRODUCED answers "T" for it. */
export { DOMID_SELF };

type Handler = (req: Request, payload: Uint8Array, out: Output) => Uint8Array;

/**
 * wire_funcs[]: the handler of each request type and its flags, `privileged` (privileged callers
 * only: EACCES) and `ignoresTxId` (tx_id not looked up).
 */
const WIRE_FUNCS = new Map<number, { handler: Handler; privileged?: boolean; ignoresTxId?: boolean }>([
  [XsType.CONTROL, { handler: handleControl, privileged: true }],
  [XsType.DIRECTORY, { handler: handleDirectory }],
  [XsType.READ, { handler: handleRead }],
  [XsType.GET_PERMS, { handler: handleGetPerms }],
  [XsType.WATCH, { handler: handleWatch, ignoresTxId: true }],
  [XsType.UNWATCH, { handler: handleUnwatch, ignoresTxId: true }],
  [XsType.TRANSACTION_START, { handler: handleTransactionStart }],
  [XsType.TRANSACTION_END, { handler: handleTransactionEnd }],
  [XsType.INTRODUCE, { handler: handleIntroduce, privileged: true }],
  [XsType.RELEASE, { handler: handleRelease, privileged: true }],
  [XsType.GET_DOMAIN_PATH, { handler: handleGetDomainPath }],
  [XsType.WRITE, { handler: handleWrite }],
  [XsType.MKDIR, { handler: handleMkdir }],
  [XsType.RM, { handler: handleRm }],
  [XsType.SET_PERMS, { handler: handleSetPerms }],
  [XsType.IS_DOMAIN_INTRODUCED, { handler: handleIsDomainIntroduced, privileged: true }],
  [XsType.RESUME, { handler: handleResume, privileged: true }],
  [XsType.SET_TARGET, { handler: handleSetTarget, privileged: true }],
  [XsType.RESET_WATCHES, { handler: handleResetWatches }],
  [XsType.DIRECTORY_PART, { handler: handleDirectoryPart }],
  [XS_GET_QUOTA, { handler: handleGetQuota, privileged: true }],
  [XS_SET_QUOTA, { handler: handleSetQuota, privileged: true }],
]);

function emptyOutput(): Output {
  return { reply: null, events: [], mutations: [], effects: [] };
}

export class XenstoreEngine {
  private readonly state: EngineState;
  private readonly onInternalError: (err: unknown) => void;

  /** Chaos: while `fn` answers true, TRANSACTION_END skips its conflict check (a broken xenstored). */
  set skipConflictCheck(fn: (() => boolean) | undefined) {
    this.state.skipConflictCheck = fn;
  }

  constructor(opts: EngineOptions = {}) {
    this.state = new EngineState(
      { ...DEFAULT_QUOTAS, ...opts.quotas },
      DEFAULT_SOFT_MEMORY_QUOTA,
      opts.quotaError === "oxenstored" ? XS_EQUOTA : "ENOSPC",
    );
    this.onInternalError = opts.onInternalError ?? (() => {});
    this.setupStructure();
  }

  /** setup_structure(): the initial tree, all owned by dom0 with perms n0; dom0 is introduced. */
  private setupStructure(): void {
    const perms: XsPerm[] = [{ id: 0, perm: "n" }];
    const state = this.state;
    const make = (path: string, children: string[]) =>
      state.main.put(path, { value: new Uint8Array(0), perms, children, generation: ++state.generation });
    make("/", ["tool", "local"]);
    make("/tool", ["xenstored"]);
    make("/tool/xenstored", []);
    make("/local", ["domain"]);
    make("/local/domain", []);
    make(XS_RELEASE_DOMAIN, []);
    make(XS_INTRODUCE_DOMAIN, []);
    state.domains.set(0, { domid: 0, introduced: true, shutdown: false });
  }

  // ---------------------------------------------------------------- connections

  connect(opts: ConnectOptions): ConnId {
    const id = this.state.nextConnId++;
    this.state.connections.set(id, {
      id,
      domid: opts.domid,
      privileged: opts.privileged ?? opts.domid === 0,
      label: opts.label,
      watches: [],
      transactions: new Map(),
      nextTxId: 1,
    });
    return id;
  }

  /** Forgets a connection with its watches and transactions. */
  disconnect(conn: ConnId): Output {
    this.state.connections.delete(conn);
    return emptyOutput();
  }

  connectionInfo(conn: ConnId): ConnectionInfo | undefined {
    const c = this.state.connections.get(conn);
    if (!c) return undefined;
    return {
      conn: c.id,
      domid: c.domid,
      privileged: c.privileged,
      label: c.label,
      target: this.state.domains.get(c.domid)?.target,
      watches: c.watches.map((w) => ({ path: w.node.slice(w.prefixLen), token: w.token, depth: w.depth })),
      transactions: [...c.transactions.keys()],
    };
  }

  /** Live connection ids, in connection order. */
  connections(): ConnId[] {
    return [...this.state.connections.keys()];
  }

  // ---------------------------------------------------------------- requests

  /** Handles one xs request. Never throws on bad input; a failed request changes nothing. */
  request(conn: ConnId, msg: XsMessage): Output {
    const out = emptyOutput();
    const c = this.state.connections.get(conn);
    if (!c || msg.payload.length > XENSTORE_PAYLOAD_MAX) return out;
    const generation = this.state.generation;
    try {
      const payload = this.dispatch(c, msg, out);
      out.reply = { type: msg.type, reqId: msg.reqId, txId: msg.txId, payload };
    } catch (err) {
      // A failed request leaves no trace, not even a used generation number.
      this.state.generation = generation;
      let name: string;
      if (err instanceof XsError) name = err.code;
      else {
        this.onInternalError(err);
        name = "EIO";
      }
      out.reply = { type: XsType.ERROR, reqId: msg.reqId, txId: msg.txId, payload: textReply(name) };
    }
    if (tracer.mask & TRACE_XS) this.trace(c, msg, out);
    return out;
  }

  /** The trace of one request: the message, its reply, the watch events it fired. */
  private trace(c: Connection, msg: XsMessage, out: Output): void {
    const reply = out.reply;
    tracer.emit({
      kind: "xs",
      op: xsTypeName(msg.type) ?? `type${msg.type}`,
      domid: c.domid,
      conn: c.label ?? String(c.id),
      reqId: msg.reqId,
      txId: msg.txId,
      payload: xsStrings(msg.payload),
      reply: reply ? (xsTypeName(reply.type) ?? `type${reply.type}`) : "dropped",
      ...(reply ? { replyPayload: xsStrings(reply.payload) } : {}),
      ...(out.events.length > 0 ? { watchEvents: out.events.length } : {}),
    });
    for (const ev of out.events) {
      const to = this.state.connections.get(ev.conn);
      tracer.emit({
        kind: "xs",
        op: "WATCH_EVENT",
        domid: to?.domid ?? -1,
        ...(to?.domid !== c.domid ? { peer: c.domid } : {}),
        conn: to?.label ?? String(ev.conn),
        payload: xsStrings(ev.msg.payload),
      });
    }
  }

  private dispatch(conn: Connection, msg: XsMessage, out: Output): Uint8Array {
    const func = WIRE_FUNCS.get(msg.type);
    if (!func) throw new XsError("ENOSYS");
    if (func.privileged && !conn.privileged) throw new XsError("EACCES");
    let tx: Transaction | undefined;
    if (!func.ignoresTxId && msg.txId !== 0) {
      tx = conn.transactions.get(msg.txId);
      if (!tx) throw new XsError("ENOENT", "no such transaction");
    }
    const req = new Request(this.state, conn, tx, tx ? tx.layer : this.state.main);
    const reply = func.handler(req, msg.payload, out);
    if (reply.length > XENSTORE_PAYLOAD_MAX) throw new XsError("E2BIG");
    commitRequest(this.state, req, out);
    return reply;
  }

  // ---------------------------------------------------------------- domains (hypervisor side)

  /**
   * The hypervisor reported the domain dead (VIRQ_DOM_EXC): forget it, delete the nodes it owns and
   * its permission entries, fire @releaseDomain if it was introduced.
   */
  domainGone(domid: number): Output {
    return domainGone(this.state, domid);
  }

  /** The domain shut down but is not dead yet: fire @releaseDomain once (C do_check_domain()). */
  domainShutdown(domid: number): Output {
    return domainShutdown(this.state, domid);
  }

  /** The introduced domains with their store page and port (for a restarted service). */
  introducedDomains(): { domid: number; mfn?: string; port?: number }[] {
    return [...this.state.domains.values()]
      .filter((d) => d.introduced)
      .map((d) => ({
        domid: d.domid,
        ...(d.mfn !== undefined ? { mfn: d.mfn } : {}),
        ...(d.port !== undefined ? { port: d.port } : {}),
      }));
  }

  isIntroduced(domid: number): boolean {
    return this.state.domains.get(domid)?.introduced === true;
  }

  // ---------------------------------------------------------------- state

  nodeCount(): number {
    return this.state.main.nodes.size;
  }

  /** Reads a node of the main tree, bypassing permissions (for services and tests). */
  peek(
    path: string,
  ): { value: Uint8Array; perms: XsPerm[]; children: string[]; generation: number } | undefined {
    const node = this.state.main.get(path);
    return node
      ? {
          value: node.value.slice(),
          perms: node.perms.map((p) => ({ ...p })),
          children: [...node.children],
          generation: node.generation,
        }
      : undefined;
  }

  quotaUsage(domid: number): QuotaUsage {
    return quotaUsage(this.state, domid);
  }

  /** The quota `key` that applies to `domid` (its own, else the global one); 0: disabled. */
  quotaOf(domid: number, key: keyof Quotas): number {
    return this.state.quotaOf(domid, key);
  }

  /** Store memory accounted to `domid` (nodes, watches, transactions, queued output). */
  domainMemory(domid: number): number {
    return domainMemory(this.state, domid);
  }

  /**
   * Would `domid`'s memory reach its hard quota with `add` more bytes? (C domain_quota_add_exceeds
   * for ACC_MEM: the connection stalls; a watch event for it is dropped.)
   */
  memoryQuotaReached(domid: number, add = 0): boolean {
    return quotaExceeded(this.state.quotaOf(domid, "memory"), domainMemory(this.state, domid) + add);
  }

  /** Has `domid`'s memory reached its soft quota (C logs it)? */
  softMemoryQuotaReached(domid: number): boolean {
    return quotaExceeded(this.state.softMemoryQuotaOf(domid), domainMemory(this.state, domid));
  }

  /**
   * The service queued (`bytes` > 0) or wrote or freed (`bytes` < 0) reply and watch-event bytes
   * for a connection of `domid`: they count towards its memory quota, as in C xenstored.
   */
  accountOutput(domid: number, bytes: number): void {
    const total = (this.state.outputMemory.get(domid) ?? 0) + bytes;
    if (total <= 0) this.state.outputMemory.delete(domid);
    else this.state.outputMemory.set(domid, total);
  }

  snapshot(): XenstoreSnapshot {
    return takeSnapshot(this.state);
  }

  /** Rebuilds an engine from a snapshot; quotas: defaults, then the snapshot's, then `opts.quotas`. */
  static restore(snapshot: XenstoreSnapshot, opts: EngineOptions = {}): XenstoreEngine {
    const engine = new XenstoreEngine({ ...opts, quotas: { ...snapshot.quotas, ...opts.quotas } });
    restoreSnapshot(engine.state, snapshot);
    return engine;
  }

  /** Replays journal mutations onto the main tree, without watch events. */
  applyMutations(mutations: readonly Mutation[]): void {
    applyMutations(this.state, mutations);
  }

  /**
   * Consistency of the main tree (C check_store()): every child exists, every non-root node is listed
   * by its parent, every node has permissions, node counts match. Returns the problems found.
   */
  checkStore(): string[] {
    return checkTree(this.state.main);
  }
}

const xsDecoder = new TextDecoder("utf-8", { fatal: false });

/** An xs payload as its NUL-separated strings (each cut at 200 characters), for traces. */
function xsStrings(payload: Uint8Array): string[] {
  const text = xsDecoder.decode(payload.length > 4096 ? payload.subarray(0, 4096) : payload);
  const parts = text.split("\0");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts.map((p) => (p.length > 200 ? `${p.slice(0, 200)}…` : p));
}
