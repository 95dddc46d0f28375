// The xenstore engine: C xenstored's request semantics (tools/xenstored core.c, watch.c,
// transaction.c, domain.c, control.c) over an in-memory tree. No I/O, no clock, no randomness:
// requests in, replies + watch events + journal mutations + effects out.

import { DOMID_SELF, XENSTORE_PAYLOAD_MAX, XS_EQUOTA, type XsErrorName, XsType } from "@xensim/abi";
import { binaryStrings, binaryToBytes, bytesToBinary, cAtoi, fromBase64, toBase64 } from "./bytes.js";
import { XenstoreStateError, XsError } from "./errors.js";
import {
  baseName,
  canonicalize,
  childPath,
  domainPath,
  isChild,
  parentPath,
  XS_INTRODUCE_DOMAIN,
  XS_RELEASE_DOMAIN,
} from "./path.js";
import {
  formatXsPerm,
  parseXsPerm,
  permAccessBits,
  XS_PERM_NONE,
  XS_PERM_OWNER,
  XS_PERM_READ,
  XS_PERM_WRITE,
  type XsPerm,
} from "./perms.js";
import {
  DEFAULT_QUOTAS,
  DEFAULT_SOFT_MEMORY_QUOTA,
  QUOTA_NAMES,
  type Quotas,
  quotaExceeded,
} from "./quota.js";
import { Layer, MainTree, NO_GENERATION, type NodeReader, nodeSize, ownerOf, type XsNode } from "./tree.js";
import type {
  ConnectionInfo,
  ConnectOptions,
  ConnId,
  Effect,
  EngineOptions,
  Mutation,
  Output,
  QuotaUsage,
  SnapshotDomain,
  SnapshotNode,
  WatchDelivery,
  XenstoreSnapshot,
} from "./types.js";
import type { XsMessage } from "./wire.js";

/** DOMID_SELF (xen.h): IS_DOMAIN_INTRODUCED answers "T" for it. */
export { DOMID_SELF };

const EMPTY = new Uint8Array(0);
const ALL_ACCESS = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
const OK_PAYLOAD = binaryStrings(["OK"]);

/** How a changed node name is matched against watches (C enum watch_match). */
type WatchMatch = "exact" | "subtree" | "depth" | "nodepth";

interface Watch {
  /** Canonical (absolute or special) path. */
  node: string;
  /** Binary string. */
  token: string;
  /** -1: no limit. */
  depth: number;
  /** Characters cut from event paths: the home prefix of a relative watch. */
  prefixLen: number;
}

interface Access {
  /** Generation seen at first access (NO_GENERATION: the node did not exist). */
  generation: number;
  /** Permissions seen at first access, for watch permission checks at commit. */
  perms: readonly XsPerm[] | undefined;
  /** Check the generation at commit (first access was a read). */
  check: boolean;
  /** Watch match queued for commit. */
  fire: WatchMatch | undefined;
}

interface Transaction {
  id: number;
  layer: Layer;
  /** Nodes accessed, in order of first access (C accessed list). */
  accessed: Map<string, Access>;
  /** Changes in order, emitted as mutations on commit. */
  ops: Mutation[];
  nodeCreated: boolean;
  /** Something failed half-way: commit answers ENOMEM, as C xenstored's fail_transaction. */
  failed: boolean;
}

interface Conn {
  id: ConnId;
  domid: number;
  privileged: boolean;
  label: string | undefined;
  watches: Watch[];
  transactions: Map<number, Transaction>;
  nextTxId: number;
}

interface Domain {
  domid: number;
  introduced: boolean;
  mfn?: string;
  port?: number;
  target?: number;
  shutdown: boolean;
}

/** A watch to fire once the request has succeeded. Permissions captured at the time of the change. */
interface Fire {
  name: string;
  match: WatchMatch;
  /** The node's permissions; looked up in the main tree when absent. */
  nodePerms?: readonly XsPerm[];
  /** The parent's permissions; looked up in the main tree when absent. */
  parentPerms?: readonly XsPerm[];
  /** Permissions before a SET_PERMS or a transaction. */
  oldPerms?: readonly XsPerm[];
}

/** State of one request being handled: all tree changes are staged and only kept on success. */
class Request {
  readonly stage: Layer;
  readonly ops: Mutation[] = [];
  readonly fires: Fire[] = [];
  readonly txFires: { path: string; match: WatchMatch }[] = [];
  /** Direct deliveries (the WATCH's first event), after the fired ones. */
  readonly events: WatchDelivery[] = [];
  readonly mutations: Mutation[] = [];
  readonly effects: Effect[] = [];
  constructor(
    readonly conn: Conn,
    readonly tx: Transaction | undefined,
    below: NodeReader,
  ) {
    this.stage = new Layer(below);
  }
}

/** Arguments of a payload, read the way C xenstored reads them. */
const args = {
  /** get_strings(): the complete nul-terminated strings (an unterminated tail is ignored). */
  strings(p: Uint8Array): string[] {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < p.length; i++) {
      if (p[i] === 0) {
        out.push(bytesToBinary(p, start, i));
        start = i + 1;
      }
    }
    return out;
  },
  /** onearg(): the payload must hold exactly one nul, at its end. */
  one(p: Uint8Array): string | undefined {
    if (p.length === 0 || p.indexOf(0) !== p.length - 1) return undefined;
    return bytesToBinary(p, 0, p.length - 1);
  },
  /** xenstore_count_strings(): the number of nuls. */
  nuls(p: Uint8Array): number {
    let n = 0;
    for (const b of p) if (b === 0) n++;
    return n;
  },
};

/** parse_domid(): strtoul base 10 that must use up the string, at most 65535. */
function parseDomid(s: string): number {
  if (s === "") return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) throw new XsError("EINVAL", "bad domid");
  const v = Number(m[2]);
  if (v > 65535 || (m[1] === "-" && v !== 0)) throw new XsError("EINVAL", "bad domid");
  return v;
}

function textReply(s: string): Uint8Array {
  return binaryStrings([s]);
}

function pad(s: string, width: number, left = false): string {
  return left ? s.padEnd(width) : s.padStart(width);
}

export class XenstoreEngine {
  private readonly main = new MainTree();
  private readonly conns = new Map<ConnId, Conn>();
  private readonly domains = new Map<number, Domain>();
  private readonly quotas: Quotas;
  private softMemoryQuota = DEFAULT_SOFT_MEMORY_QUOTA;
  private readonly quotaErrorName: XsErrorName;
  private readonly onInternalError: (err: unknown) => void;
  /** Global generation counter (C xenstored `generation`). */
  private generation = 0;
  private nextConnId: ConnId = 1;
  /** Pseudo connection for the store's own changes (domain removal): privileged, never listed. */
  private readonly system: Conn = {
    id: 0,
    domid: 0,
    privileged: true,
    label: "xenstored",
    watches: [],
    transactions: new Map(),
    nextTxId: 1,
  };

  constructor(opts: EngineOptions = {}) {
    this.quotas = { ...DEFAULT_QUOTAS, ...opts.quotas };
    this.quotaErrorName = opts.quotaError === "oxenstored" ? XS_EQUOTA : "ENOSPC";
    this.onInternalError = opts.onInternalError ?? (() => {});
    this.setupStructure();
  }

  /** setup_structure(): the initial tree, all owned by dom0 with perms n0; dom0 is introduced. */
  private setupStructure(): void {
    const perms: XsPerm[] = [{ id: 0, perm: "n" }];
    const mk = (path: string, children: string[]) =>
      this.main.put(path, { value: EMPTY, perms, children, generation: ++this.generation });
    mk("/", ["tool", "local"]);
    mk("/tool", ["xenstored"]);
    mk("/tool/xenstored", []);
    mk("/local", ["domain"]);
    mk("/local/domain", []);
    mk(XS_RELEASE_DOMAIN, []);
    mk(XS_INTRODUCE_DOMAIN, []);
    this.domains.set(0, { domid: 0, introduced: true, shutdown: false });
  }

  // ---------------------------------------------------------------- connections

  connect(opts: ConnectOptions): ConnId {
    const id = this.nextConnId++;
    this.conns.set(id, {
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
    this.conns.delete(conn);
    return { reply: null, events: [], mutations: [], effects: [] };
  }

  connectionInfo(conn: ConnId): ConnectionInfo | undefined {
    const c = this.conns.get(conn);
    if (!c) return undefined;
    return {
      conn: c.id,
      domid: c.domid,
      privileged: c.privileged,
      label: c.label,
      target: this.domains.get(c.domid)?.target,
      watches: c.watches.map((w) => ({ path: w.node.slice(w.prefixLen), token: w.token, depth: w.depth })),
      transactions: [...c.transactions.keys()],
    };
  }

  /** Live connection ids, in connection order. */
  connections(): ConnId[] {
    return [...this.conns.keys()];
  }

  // ---------------------------------------------------------------- requests

  /** Handles one xs request. Never throws on bad input; a failed request changes nothing. */
  request(conn: ConnId, msg: XsMessage): Output {
    const out: Output = { reply: null, events: [], mutations: [], effects: [] };
    const c = this.conns.get(conn);
    if (!c || msg.payload.length > XENSTORE_PAYLOAD_MAX) return out;
    const generation = this.generation;
    try {
      const payload = this.dispatch(c, msg, out);
      out.reply = { type: msg.type, reqId: msg.reqId, txId: msg.txId, payload };
    } catch (err) {
      // A failed request leaves no trace, not even a used generation number.
      this.generation = generation;
      let name: string;
      if (err instanceof XsError) name = err.code;
      else {
        this.onInternalError(err);
        name = "EIO";
      }
      out.reply = { type: XsType.ERROR, reqId: msg.reqId, txId: msg.txId, payload: textReply(name) };
    }
    return out;
  }

  private dispatch(conn: Conn, msg: XsMessage, out: Output): Uint8Array {
    const flags = WIRE_FLAGS.get(msg.type);
    if (!flags) throw new XsError("ENOSYS");
    if (flags.priv && !conn.privileged) throw new XsError("EACCES");
    let tx: Transaction | undefined;
    if (!flags.noTxId && msg.txId !== 0) {
      tx = conn.transactions.get(msg.txId);
      if (!tx) throw new XsError("ENOENT", "no such transaction");
    }
    const req = new Request(conn, tx, tx ? tx.layer : this.main);
    const reply = this.handle(req, msg.type, msg.payload, out);
    if (reply.length > XENSTORE_PAYLOAD_MAX) throw new XsError("E2BIG");
    this.commit(req, out);
    return reply;
  }

  private handle(req: Request, type: number, p: Uint8Array, out: Output): Uint8Array {
    switch (type) {
      case XsType.CONTROL:
        return this.hControl(req, p);
      case XsType.DIRECTORY:
        return this.hDirectory(req, p);
      case XsType.READ:
        return this.hRead(req, p);
      case XsType.GET_PERMS:
        return this.hGetPerms(req, p);
      case XsType.WATCH:
        return this.hWatch(req, p);
      case XsType.UNWATCH:
        return this.hUnwatch(req, p);
      case XsType.TRANSACTION_START:
        return this.hTransactionStart(req, p);
      case XsType.TRANSACTION_END:
        return this.hTransactionEnd(req, p);
      case XsType.INTRODUCE:
        return this.hIntroduce(req, p, out);
      case XsType.RELEASE:
        return this.hRelease(req, p, out);
      case XsType.GET_DOMAIN_PATH:
        return this.hGetDomainPath(req, p);
      case XsType.WRITE:
        return this.hWrite(req, p);
      case XsType.MKDIR:
        return this.hMkdir(req, p);
      case XsType.RM:
        return this.hRm(req, p);
      case XsType.SET_PERMS:
        return this.hSetPerms(req, p);
      case XsType.IS_DOMAIN_INTRODUCED:
        return this.hIsDomainIntroduced(req, p);
      case XsType.RESUME:
        return this.hResume(req, p);
      case XsType.SET_TARGET:
        return this.hSetTarget(req, p);
      case XsType.RESET_WATCHES:
        return this.hResetWatches(req, p);
      case XsType.DIRECTORY_PART:
        return this.hDirectoryPart(req, p);
      default:
        throw new XsError("ENOSYS");
    }
  }

  /** Keeps a successful request's changes: into its transaction, or into the main tree. */
  private commit(req: Request, out: Output): void {
    if (req.tx) {
      if (req.conn.transactions.get(req.tx.id) === req.tx) {
        req.stage.mergeInto(req.tx.layer);
        req.tx.ops.push(...req.ops);
        for (const f of req.txFires) {
          const a = req.tx.accessed.get(f.path);
          if (!a) req.tx.failed = true;
          else if (a.fire === undefined || f.match === "subtree") a.fire = f.match;
        }
      }
    } else {
      req.stage.mergeInto(this.main);
      out.mutations.push(...req.ops);
    }
    out.mutations.push(...req.mutations);
    out.effects.push(...req.effects);
    const seen = new Set<string>();
    for (const e of out.events) seen.add(`${e.conn}:${bytesToBinary(e.msg.payload)}`);
    for (const f of req.fires) this.deliver(f, out.events, seen);
    out.events.push(...req.events);
  }

  /** Runs store-internal changes (domain removal) outside any transaction and keeps them. */
  private runSystem(out: Output, fn: (req: Request) => void): void {
    const req = new Request(this.system, undefined, this.main);
    fn(req);
    this.commit(req, out);
  }

  // ---------------------------------------------------------------- permissions

  /** perm_for_conn(): owner (or the SET_TARGET target) and privileged callers get everything. */
  private permFor(conn: Conn, perms: readonly XsPerm[]): number {
    if (conn.privileged) return ALL_ACCESS;
    const target = this.domains.get(conn.domid)?.target;
    const allows = (id: number) => id === conn.domid || (target !== undefined && id === target);
    if (allows(perms[0]!.id)) return ALL_ACCESS;
    for (let i = 1; i < perms.length; i++) if (allows(perms[i]!.id)) return permAccessBits(perms[i]!.perm);
    return permAccessBits(perms[0]!.perm);
  }

  private quotaError(what: string): XsError {
    return new XsError(this.quotaErrorName, `${what} quota`);
  }

  private canonical(req: Request, raw: string | undefined, allowSpecial: boolean) {
    const r = canonicalize(
      raw,
      domainPath(req.conn.domid),
      allowSpecial,
      req.conn.privileged ? undefined : this.quotas.pathMax,
    );
    if (!r.ok) throw new XsError("EINVAL", "bad path");
    return r;
  }

  // ---------------------------------------------------------------- tree access

  /** read_node(): in a transaction the first access records the node's generation. */
  private read(req: Request, path: string): XsNode | undefined {
    if (req.tx) this.recordAccess(req, path, true);
    return req.stage.get(path);
  }

  private recordAccess(req: Request, path: string, check: boolean): void {
    const tx = req.tx!;
    if (tx.accessed.has(path)) return;
    if (!req.conn.privileged && quotaExceeded(this.quotas.transactionNodes, tx.accessed.size + 1)) {
      tx.failed = true;
      throw this.quotaError("transaction-nodes");
    }
    const n = tx.layer.get(path);
    if (n && check) tx.layer.pinned.set(path, n);
    tx.accessed.set(path, {
      generation: n ? n.generation : NO_GENERATION,
      perms: n?.perms,
      check,
      fire: undefined,
    });
  }

  /** write_node(): the node-size quota, then the staged write with a new generation. */
  private writeNode(
    req: Request,
    path: string,
    value: Uint8Array,
    perms: readonly XsPerm[],
    old: XsNode,
  ): void {
    if (!req.conn.privileged && quotaExceeded(this.quotas.nodeSize, nodeSize(value, perms, old.children))) {
      if (req.tx) req.tx.failed = true;
      throw this.quotaError("node-size");
    }
    if (req.tx) this.recordAccess(req, path, false);
    req.stage.put(path, { value, perms, children: old.children, generation: ++this.generation });
    req.ops.push({ op: "set", path, value, perms: [...perms] });
  }

  private fire(req: Request, f: Fire): void {
    if (req.tx) req.txFires.push({ path: f.name, match: f.match });
    else req.fires.push(f);
  }

  /** The nearest existing ancestor's access for the caller (ask_parents()). */
  private askParents(req: Request, name: string): number {
    let p = name;
    let node: XsNode | undefined;
    do {
      p = parentPath(p);
      node = this.read(req, p);
      if (node) break;
    } while (p !== "/");
    return node ? this.permFor(req.conn, node.perms) : XS_PERM_NONE;
  }

  /**
   * get_node() with its permission check. A missing node is ENOENT only if the nearest existing
   * ancestor grants the caller the same access; otherwise EACCES, so nothing leaks.
   */
  private getNode(req: Request, name: string, perm: number): XsNode {
    const node = this.read(req, name);
    let err: XsErrorName;
    if (node) {
      if ((this.permFor(req.conn, node.perms) & perm) === perm) return node;
      err = "EACCES";
    } else err = "ENOENT";
    throw new XsError(this.askParents(req, name) & perm ? err : "EACCES");
  }

  private nodeCountOf(req: Request, domid: number): number {
    return (
      this.main.count(domid) +
      (req.tx?.layer.countDelta.get(domid) ?? 0) +
      (req.stage.countDelta.get(domid) ?? 0)
    );
  }

  /**
   * create_node(): makes `name` and its missing parents. New nodes inherit the nearest parent's
   * permissions; an unprivileged creator becomes their owner. Quotas are checked bottom-up as C
   * xenstored does before anything is written.
   */
  private createNode(req: Request, name: string, value: Uint8Array): readonly XsPerm[] {
    const names = [name];
    let parentName = parentPath(name);
    let parent = this.read(req, parentName);
    while (!parent) {
      if (parentName === "/") throw new XsError("EIO", "no root node");
      names.push(parentName);
      parentName = parentPath(parentName);
      parent = this.read(req, parentName);
    }
    const tx = req.tx;
    if (tx) tx.nodeCreated = true;
    const perms = parent.perms.map((p) => ({ ...p }));
    if (!req.conn.privileged) perms[0] = { id: req.conn.domid, perm: perms[0]!.perm };

    if (!req.conn.privileged) {
      const base = this.nodeCountOf(req, req.conn.domid);
      for (let k = 0; k < names.length; k++) {
        if (quotaExceeded(this.quotas.nodes, base + k + 1)) {
          if (tx && k > 0) tx.failed = true;
          throw this.quotaError("nodes");
        }
        const size = k === 0 ? nodeSize(value, perms, []) : nodeSize(EMPTY, perms, [baseName(names[k - 1]!)]);
        if (quotaExceeded(this.quotas.nodeSize, size)) {
          if (tx) tx.failed = true;
          throw this.quotaError("node-size");
        }
      }
      const top = baseName(names[names.length - 1]!);
      if (
        quotaExceeded(this.quotas.nodeSize, nodeSize(parent.value, parent.perms, [...parent.children, top]))
      ) {
        if (tx) tx.failed = true;
        throw this.quotaError("node-size");
      }
    }

    const topName = names[names.length - 1]!;
    req.stage.put(parentName, {
      ...parent,
      children: [...parent.children, baseName(topName)],
      generation: ++this.generation,
    });
    for (let k = names.length - 1; k >= 0; k--) {
      const v = k === 0 ? value : EMPTY;
      req.stage.put(names[k]!, {
        value: v,
        perms,
        children: k === 0 ? [] : [baseName(names[k - 1]!)],
        generation: ++this.generation,
      });
      req.ops.push({ op: "set", path: names[k]!, value: v, perms: perms.map((p) => ({ ...p })) });
    }
    return perms;
  }

  /** rm_node(): removes a subtree with an iterative post-order walk (XSA-418), firing as it goes. */
  private removeSubtree(req: Request, root: string, rootNode: XsNode): void {
    const parentName = parentPath(root);
    const parent = this.read(req, parentName);
    if (!parent) throw new XsError("EINVAL");
    const stack: { path: string; node: XsNode; next: number }[] = [{ path: root, node: rootNode, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.node.children.length) {
        const path = childPath(top.path, top.node.children[top.next++]!);
        const node = this.read(req, path);
        if (node) stack.push({ path, node, next: 0 });
        continue;
      }
      stack.pop();
      const up = stack[stack.length - 1];
      if (req.tx) this.recordAccess(req, top.path, false);
      req.stage.put(top.path, null);
      this.fire(req, {
        name: top.path,
        match: up ? "exact" : "subtree",
        nodePerms: top.node.perms,
        ...(up ? { parentPerms: up.node.perms } : {}),
      });
    }
    const base = baseName(root);
    req.stage.put(parentName, {
      ...parent,
      children: parent.children.filter((c) => c !== base),
      generation: ++this.generation,
    });
    req.ops.push({ op: "rm", path: root });
  }

  // ---------------------------------------------------------------- watches

  /** watch_permitted(): the node, its parent, or (for a change of permissions) the old node is readable. */
  private watchPermitted(conn: Conn, f: Fire): boolean {
    if (f.oldPerms && this.permFor(conn, f.oldPerms) & XS_PERM_READ) return true;
    const nodePerms = f.nodePerms ?? this.main.get(f.name)?.perms;
    if (!nodePerms) return false;
    if (this.permFor(conn, nodePerms) & XS_PERM_READ) return true;
    const parentPerms = f.parentPerms ?? this.main.get(parentPath(f.name))?.perms;
    return parentPerms !== undefined && (this.permFor(conn, parentPerms) & XS_PERM_READ) !== 0;
  }

  /** fire_watches(): one event per matching watch of every connection allowed to see the change. */
  private deliver(f: Fire, events: WatchDelivery[], seen: Set<string>): void {
    for (const conn of this.conns.values()) {
      if (conn.watches.length === 0 || !this.watchPermitted(conn, f)) continue;
      for (const w of conn.watches) {
        let send: boolean;
        switch (f.match) {
          case "exact":
            send = f.name === w.node;
            break;
          case "subtree":
            send = isChild(f.name, w.node, w.depth);
            break;
          case "depth":
            send = f.name === w.node || (w.depth > 0 && isChild(f.name, w.node, w.depth));
            break;
          case "nodepth":
            send = f.name === w.node && w.depth < 0;
            break;
        }
        if (!send) continue;
        const ev = this.watchEvent(conn, w, f.name);
        if (!ev) continue;
        // Identical pending events are coalesced (not for the special watches), as send_event() does.
        if (f.name[0] !== "@") {
          const key = `${conn.id}:${bytesToBinary(ev.msg.payload)}`;
          if (seen.has(key)) continue;
          seen.add(key);
        }
        events.push(ev);
      }
    }
  }

  /** A WATCH_EVENT for `name`; undefined if it would exceed XENSTORE_PAYLOAD_MAX (dropped, XSA-324). */
  private watchEvent(conn: Conn, w: Watch, name: string): WatchDelivery | undefined {
    const payload = binaryStrings([name.slice(w.prefixLen), w.token]);
    if (payload.length > XENSTORE_PAYLOAD_MAX) return undefined;
    return { conn: conn.id, msg: { type: XsType.WATCH_EVENT, reqId: 0, txId: 0, payload } };
  }

  /** fire_special_watches(): @introduceDomain / @releaseDomain, plain and/or with the "/<domid>" suffix. */
  private fireSpecial(req: Request, name: string, domid: number, plain: boolean, withDomid: boolean): void {
    const node = req.stage.get(name);
    if (!node) return;
    const rootPerms = req.stage.get("/")?.perms;
    // WATCH_NODOM first, then WATCH_DOM, as fire_special_watches().
    if (plain) req.fires.push({ name, match: "nodepth", nodePerms: node.perms });
    if (withDomid) {
      req.fires.push({
        name: `${name}/${domid}`,
        match: "depth",
        nodePerms: node.perms,
        ...(rootPerms ? { parentPerms: rootPerms } : {}),
      });
    }
  }

  private domainWatchCount(domid: number): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.domid === domid) n += c.watches.length;
    return n;
  }

  private domainTransactionCount(domid: number): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.domid === domid) n += c.transactions.size;
    return n;
  }

  /** conn_delete_all_watches() + conn_delete_all_transactions() for every connection of a domain. */
  private resetDomainConnections(domid: number): void {
    for (const c of this.conns.values()) {
      if (c.domid !== domid) continue;
      c.watches = [];
      c.transactions.clear();
    }
  }

  // ---------------------------------------------------------------- request handlers

  private hDirectory(req: Request, p: Uint8Array): Uint8Array {
    const { name } = this.canonical(req, args.one(p), false);
    return binaryStrings(this.getNode(req, name, XS_PERM_READ).children);
  }

  private hRead(req: Request, p: Uint8Array): Uint8Array {
    const { name } = this.canonical(req, args.one(p), false);
    return this.getNode(req, name, XS_PERM_READ).value.slice();
  }

  private hGetPerms(req: Request, p: Uint8Array): Uint8Array {
    const { name } = this.canonical(req, args.one(p), true);
    return binaryStrings(this.getNode(req, name, XS_PERM_READ).perms.map(formatXsPerm));
  }

  private hWatch(req: Request, p: Uint8Array): Uint8Array {
    const s = args.strings(p);
    let depth = -1;
    if (s.length === 3) {
      depth = cAtoi(s[2]!);
      if (depth < 0) throw new XsError("EINVAL", "negative depth");
    } else if (s.length !== 2) throw new XsError("EINVAL");
    const r = this.canonical(req, s[0], true);
    const token = s[1]!;
    const conn = req.conn;
    if (conn.watches.some((w) => w.node === r.name && w.token === token)) throw new XsError("EEXIST");
    if (!conn.privileged && quotaExceeded(this.quotas.watches, this.domainWatchCount(conn.domid) + 1)) {
      throw this.quotaError("watches");
    }
    const w: Watch = {
      node: r.name,
      token,
      depth,
      prefixLen: r.relative ? domainPath(conn.domid).length + 1 : 0,
    };
    conn.watches.push(w);
    const ev = this.watchEvent(conn, w, w.node);
    if (ev) req.events.push(ev);
    return OK_PAYLOAD;
  }

  private hUnwatch(req: Request, p: Uint8Array): Uint8Array {
    const s = args.strings(p);
    if (s.length !== 2) throw new XsError("EINVAL");
    const { name } = this.canonical(req, s[0], true);
    const i = req.conn.watches.findIndex((w) => w.node === name && w.token === s[1]);
    if (i < 0) throw new XsError("ENOENT");
    req.conn.watches.splice(i, 1);
    return OK_PAYLOAD;
  }

  private hTransactionStart(req: Request, _p: Uint8Array): Uint8Array {
    if (req.tx) throw new XsError("EBUSY");
    const conn = req.conn;
    if (
      !conn.privileged &&
      quotaExceeded(this.quotas.transactions, this.domainTransactionCount(conn.domid) + 1)
    ) {
      throw this.quotaError("transactions");
    }
    let id = conn.nextTxId;
    while (id === 0 || conn.transactions.has(id)) id = (id + 1) >>> 0;
    conn.nextTxId = (id + 1) >>> 0;
    this.generation++;
    conn.transactions.set(id, {
      id,
      layer: new Layer(this.main),
      accessed: new Map(),
      ops: [],
      nodeCreated: false,
      failed: false,
    });
    return textReply(String(id));
  }

  private hTransactionEnd(req: Request, p: Uint8Array): Uint8Array {
    const arg = args.one(p);
    if (arg !== "T" && arg !== "F") throw new XsError("EINVAL");
    const tx = req.tx;
    if (!tx) throw new XsError("ENOENT", "not in a transaction");
    req.conn.transactions.delete(tx.id);
    if (arg === "F") return OK_PAYLOAD;
    if (tx.failed) throw new XsError("ENOMEM", "transaction failed");
    if (tx.nodeCreated && !req.conn.privileged) {
      for (const [domid, delta] of tx.layer.countDelta) {
        if (
          delta > 0 &&
          !this.isPrivilegedDomid(domid) &&
          quotaExceeded(this.quotas.nodes, this.main.count(domid) + delta)
        ) {
          throw this.quotaError("nodes");
        }
      }
    }
    for (const [path, a] of tx.accessed) {
      if (a.check && (this.main.get(path)?.generation ?? NO_GENERATION) !== a.generation) {
        throw new XsError("EAGAIN");
      }
    }
    for (const [path, node] of tx.layer.overlay) {
      this.main.put(path, node ? { ...node, generation: ++this.generation } : null);
    }
    req.mutations.push(...tx.ops);
    for (const [path, a] of tx.accessed) {
      if (a.fire) req.fires.push({ name: path, match: a.fire, ...(a.perms ? { oldPerms: a.perms } : {}) });
    }
    return OK_PAYLOAD;
  }

  private isPrivilegedDomid(domid: number): boolean {
    return domid === 0;
  }

  private hWrite(req: Request, p: Uint8Array): Uint8Array {
    const nul = p.indexOf(0);
    if (nul < 0) throw new XsError("EINVAL");
    const { name } = this.canonical(req, bytesToBinary(p, 0, nul), false);
    const value = p.slice(nul + 1);
    let node: XsNode;
    try {
      node = this.getNode(req, name, XS_PERM_WRITE);
    } catch (err) {
      if (!(err instanceof XsError) || err.code !== "ENOENT") throw err;
      const perms = this.createNode(req, name, value);
      this.fire(req, { name, match: "subtree", nodePerms: perms });
      return OK_PAYLOAD;
    }
    this.writeNode(req, name, value, node.perms, node);
    this.fire(req, { name, match: "subtree", nodePerms: node.perms });
    return OK_PAYLOAD;
  }

  private hMkdir(req: Request, p: Uint8Array): Uint8Array {
    const { name } = this.canonical(req, args.one(p), false);
    try {
      this.getNode(req, name, XS_PERM_WRITE);
    } catch (err) {
      if (!(err instanceof XsError) || err.code !== "ENOENT") throw err;
      const perms = this.createNode(req, name, EMPTY);
      this.fire(req, { name, match: "subtree", nodePerms: perms });
    }
    return OK_PAYLOAD;
  }

  private hRm(req: Request, p: Uint8Array): Uint8Array {
    const { name } = this.canonical(req, args.one(p), false);
    let node: XsNode;
    try {
      node = this.getNode(req, name, XS_PERM_WRITE);
    } catch (err) {
      if (!(err instanceof XsError) || err.code !== "ENOENT") throw err;
      // Not there: fine if the parent is.
      if (this.read(req, parentPath(name))) return OK_PAYLOAD;
      throw err;
    }
    if (name === "/") throw new XsError("EINVAL", "cannot remove /");
    this.removeSubtree(req, name, node);
    return OK_PAYLOAD;
  }

  private hSetPerms(req: Request, p: Uint8Array): Uint8Array {
    const n = args.nuls(p);
    if (n < 2) throw new XsError("EINVAL");
    const num = n - 1;
    if (!req.conn.privileged && quotaExceeded(this.quotas.nodePermissions, num)) {
      throw this.quotaError("node-permissions");
    }
    const s = args.strings(p);
    const perms: XsPerm[] = [];
    for (const ps of s.slice(1, 1 + num)) {
      const perm = parseXsPerm(ps);
      if (!perm) throw new XsError("EINVAL", "bad permission");
      perms.push(perm);
    }
    const { name } = this.canonical(req, s[0], true);
    const node = this.getNode(req, name, XS_PERM_WRITE | XS_PERM_OWNER);
    if (!req.conn.privileged && perms[0]!.id !== ownerOf(node)) throw new XsError("EPERM");
    this.writeNode(req, name, node.value, perms, node);
    this.fire(req, { name, match: "subtree", nodePerms: perms, oldPerms: node.perms });
    return OK_PAYLOAD;
  }

  private hIntroduce(req: Request, p: Uint8Array, out: Output): Uint8Array {
    const s = args.strings(p);
    if (s.length < 3) throw new XsError("EINVAL");
    const domid = parseDomid(s[0]!);
    const mfn = s[1]!;
    const port = cAtoi(s[2]!);
    if (port <= 0) throw new XsError("EINVAL", "bad event channel");
    let d = this.domains.get(domid);
    const fresh = !d?.introduced;
    if (!d) {
      d = { domid, introduced: true, mfn, port, shutdown: false };
      this.domains.set(domid, d);
    }
    d.introduced = true;
    d.mfn = mfn;
    d.port = port;
    if (fresh) d.shutdown = false;
    if (domid !== 0) this.resetDomainConnections(domid);
    req.mutations.push(this.domainMutation(d));
    req.effects.push({ kind: "introduce", domid, mfn, port });
    if (fresh && !this.isPrivilegedDomid(domid)) {
      this.runSystem(out, (sys) => this.fireSpecial(sys, XS_INTRODUCE_DOMAIN, domid, true, true));
    }
    return OK_PAYLOAD;
  }

  private domainMutation(d: Domain): Mutation {
    return {
      op: "domain",
      domid: d.domid,
      introduced: d.introduced,
      ...(d.mfn !== undefined ? { mfn: d.mfn } : {}),
      ...(d.port !== undefined ? { port: d.port } : {}),
      ...(d.target !== undefined ? { target: d.target } : {}),
    };
  }

  /** onearg_domain(): an introduced domain other than dom0. */
  private oneargDomain(p: Uint8Array): Domain {
    const a = args.one(p);
    if (a === undefined) throw new XsError("EINVAL");
    const domid = parseDomid(a);
    if (this.isPrivilegedDomid(domid)) throw new XsError("EINVAL");
    return this.connectedDomain(domid);
  }

  private connectedDomain(domid: number): Domain {
    const d = this.domains.get(domid);
    if (!d?.introduced) throw new XsError("ENOENT", "domain not introduced");
    return d;
  }

  private hRelease(req: Request, p: Uint8Array, out: Output): Uint8Array {
    const d = this.oneargDomain(p);
    this.destroyDomain(d.domid, out);
    req.effects.push({ kind: "release", domid: d.domid });
    return OK_PAYLOAD;
  }

  /**
   * destroy_domain(): drops the domain's watches and transactions, forgets it, deletes the nodes it
   * owns and removes it from other nodes' permissions (XSA-322/419), then fires @releaseDomain if it
   * was introduced.
   */
  private destroyDomain(domid: number, out: Output): void {
    const d = this.domains.get(domid);
    const introduced = d?.introduced ?? false;
    this.resetDomainConnections(domid);
    this.runSystem(out, (sys) => {
      if (d) {
        this.domains.delete(domid);
        sys.mutations.push({ op: "domain", domid, introduced: false });
      }
      this.domainTreeRemove(sys, domid);
      if (introduced) this.fireSpecial(sys, XS_RELEASE_DOMAIN, domid, true, true);
    });
  }

  /** domain_tree_remove(): iterative pre-order walk of "/" and the special nodes. */
  private domainTreeRemove(req: Request, domid: number): void {
    for (const root of ["/", XS_RELEASE_DOMAIN, XS_INTRODUCE_DOMAIN]) {
      const stack = [root];
      while (stack.length > 0) {
        const path = stack.pop()!;
        const node = req.stage.get(path);
        if (!node) continue;
        if (ownerOf(node) === domid && path !== "/" && path[0] !== "@") {
          this.removeSubtree(req, path, node);
          continue;
        }
        const kept = node.perms.filter((pe, i) => i === 0 || pe.id !== domid);
        // A special node is never deleted: it goes back to dom0.
        if (ownerOf(node) === domid) kept[0] = { id: 0, perm: kept[0]!.perm };
        if (kept.length !== node.perms.length || ownerOf(node) === domid) {
          // write_node_raw(): no new generation, no watch event.
          req.stage.put(path, { ...node, perms: kept });
          req.ops.push({ op: "set", path, value: node.value, perms: kept.map((pe) => ({ ...pe })) });
        }
        for (let i = node.children.length - 1; i >= 0; i--) stack.push(childPath(path, node.children[i]!));
      }
    }
  }

  private hGetDomainPath(_req: Request, p: Uint8Array): Uint8Array {
    const a = args.one(p);
    if (a === undefined) throw new XsError("EINVAL");
    return textReply(domainPath(parseDomid(a)));
  }

  private hIsDomainIntroduced(_req: Request, p: Uint8Array): Uint8Array {
    const a = args.one(p);
    if (a === undefined) throw new XsError("EINVAL");
    const domid = parseDomid(a);
    const yes = domid === DOMID_SELF || this.domains.get(domid)?.introduced === true;
    return textReply(yes ? "T" : "F");
  }

  private hResume(req: Request, p: Uint8Array): Uint8Array {
    const d = this.oneargDomain(p);
    d.shutdown = false;
    req.effects.push({ kind: "resume", domid: d.domid });
    return OK_PAYLOAD;
  }

  private hSetTarget(req: Request, p: Uint8Array): Uint8Array {
    const s = args.strings(p);
    if (s.length < 2) throw new XsError("EINVAL");
    const domid = parseDomid(s[0]!);
    const tdomid = parseDomid(s[1]!);
    const d = this.connectedDomain(domid);
    this.connectedDomain(tdomid);
    d.target = tdomid;
    req.mutations.push(this.domainMutation(d));
    return OK_PAYLOAD;
  }

  private hResetWatches(req: Request, _p: Uint8Array): Uint8Array {
    req.conn.watches = [];
    req.conn.transactions.clear();
    return OK_PAYLOAD;
  }

  private hDirectoryPart(req: Request, p: Uint8Array): Uint8Array {
    if (args.nuls(p) !== 2) throw new XsError("EINVAL");
    const s = args.strings(p);
    const { name } = this.canonical(req, s[0], false);
    const node = this.getNode(req, name, XS_PERM_READ);
    const off = cAtoi(s[1]!) >>> 0;
    const gen = String(node.generation);
    const blob = binaryStrings(node.children);
    if (off >= blob.length) return binaryStrings([gen, ""]);
    const maxlen = XENSTORE_PAYLOAD_MAX - (gen.length + 1) - 1;
    let len = 0;
    let pos = off;
    for (;;) {
      let end = pos;
      while (end < blob.length && blob[end] !== 0) end++;
      const clen = end - pos;
      if (len + clen >= maxlen) break;
      len += clen + 1;
      pos += clen + 1;
      if (off + len >= blob.length) break;
    }
    const last = off + len >= blob.length;
    const out = new Uint8Array(gen.length + 1 + len + (last ? 1 : 0));
    out.set(binaryToBytes(gen), 0);
    out.set(blob.subarray(off, off + len), gen.length + 1);
    return out;
  }

  private hControl(_req: Request, p: Uint8Array): Uint8Array {
    const s = args.strings(p);
    if (s.length === 0) throw new XsError("EINVAL");
    const cmd = s[0]!;
    const a = s.slice(1);
    switch (cmd) {
      case "check":
        if (a.length) throw new XsError("EINVAL");
        if (this.checkStore().length) throw new XsError("EIO", "store inconsistent");
        return OK_PAYLOAD;
      case "print":
        if (a.length !== 1) throw new XsError("EINVAL");
        return OK_PAYLOAD;
      case "quota":
        if (a.length === 0) return textReply(this.quotaSettings(false));
        if (a[0] === "set") return this.quotaSet(a.slice(1), false);
        if (a.length !== 1) throw new XsError("EINVAL");
        return textReply(this.domainQuotaReport(cAtoi(a[0]!)));
      case "quota-soft":
        if (a.length === 0) return textReply(this.quotaSettings(true));
        if (a[0] === "set") return this.quotaSet(a.slice(1), true);
        throw new XsError("EINVAL");
      case "help":
        if (a.length) throw new XsError("EINVAL");
        return textReply(CONTROL_HELP.map(([c, pars]) => `${pad(c, 15, true)} ${pars}\n`).join(""));
      default:
        throw new XsError("EINVAL", "unknown control command");
    }
  }

  private quotaSettings(soft: boolean): string {
    let s = "Quota settings:\n";
    for (const q of QUOTA_NAMES) {
      if (soft && q.key !== "memory") continue;
      const v = soft ? this.softMemoryQuota : this.quotas[q.key];
      s += `${pad(q.name, 17, true)}: ${pad(String(v), 8)} ${q.descr}\n`;
    }
    return s;
  }

  private quotaSet(a: string[], soft: boolean): Uint8Array {
    if (a.length !== 2) throw new XsError("EINVAL");
    const val = cAtoi(a[1]!);
    if (val < 1) throw new XsError("EINVAL");
    const q = QUOTA_NAMES.find((x) => x.name === a[0]);
    if (!q || (soft && q.key !== "memory")) throw new XsError("EINVAL");
    if (soft) this.softMemoryQuota = val;
    else this.quotas[q.key] = val;
    return OK_PAYLOAD;
  }

  private domainQuotaReport(domid: number): string {
    const known =
      this.domains.has(domid) ||
      this.main.count(domid) > 0 ||
      [...this.conns.values()].some((c) => c.domid === domid);
    if (!known) throw new XsError("ENOENT");
    const u = this.quotaUsage(domid);
    const vals: Partial<Record<keyof Quotas, number>> = {
      nodes: u.nodes,
      watches: u.watches,
      memory: u.memory,
      transactions: u.transactions,
    };
    let s = `Domain ${domid}:\n`;
    for (const q of QUOTA_NAMES) {
      const v = String(vals[q.key] ?? 0);
      s += `${pad(q.name, 17, true)}: ${pad(v, 8)} (max ${pad(v, 8)})\n`;
    }
    return s;
  }

  // ---------------------------------------------------------------- domains (hypervisor side)

  /**
   * The hypervisor reported the domain dead (VIRQ_DOM_EXC): forget it, delete the nodes it owns and
   * its permission entries, fire @releaseDomain if it was introduced.
   */
  domainGone(domid: number): Output {
    const out: Output = { reply: null, events: [], mutations: [], effects: [] };
    if (this.isPrivilegedDomid(domid)) return out;
    const introduced = this.domains.get(domid)?.introduced ?? false;
    this.destroyDomain(domid, out);
    if (introduced) out.effects.push({ kind: "release", domid });
    return out;
  }

  /** The domain shut down but is not dead yet: fire @releaseDomain once (C do_check_domain()). */
  domainShutdown(domid: number): Output {
    const out: Output = { reply: null, events: [], mutations: [], effects: [] };
    const d = this.domains.get(domid);
    if (!d?.introduced || d.shutdown) return out;
    d.shutdown = true;
    this.runSystem(out, (sys) => this.fireSpecial(sys, XS_RELEASE_DOMAIN, domid, true, true));
    return out;
  }

  isIntroduced(domid: number): boolean {
    return this.domains.get(domid)?.introduced === true;
  }

  // ---------------------------------------------------------------- state

  nodeCount(): number {
    return this.main.nodes.size;
  }

  /** Reads a node of the main tree, bypassing permissions (for services and tests). */
  peek(
    path: string,
  ): { value: Uint8Array; perms: XsPerm[]; children: string[]; generation: number } | undefined {
    const n = this.main.get(path);
    return n
      ? {
          value: n.value.slice(),
          perms: n.perms.map((p) => ({ ...p })),
          children: [...n.children],
          generation: n.generation,
        }
      : undefined;
  }

  quotaUsage(domid: number): QuotaUsage {
    let memory = 0;
    for (const [path, n] of this.main.nodes) {
      if (ownerOf(n) === domid) memory += nodeSize(n.value, n.perms, n.children) + path.length;
    }
    let watches = 0;
    let transactions = 0;
    for (const c of this.conns.values()) {
      if (c.domid !== domid) continue;
      watches += c.watches.length;
      transactions += c.transactions.size;
      for (const w of c.watches) memory += w.node.length + w.token.length;
    }
    return {
      domid,
      nodes: this.main.count(domid),
      watches,
      transactions,
      memory,
      quotas: { ...this.quotas },
    };
  }

  snapshot(): XenstoreSnapshot {
    const nodes: SnapshotNode[] = [];
    const emit = (path: string, n: XsNode) =>
      nodes.push({
        path,
        value: toBase64(n.value),
        perms: n.perms.map(formatXsPerm),
        children: [...n.children],
        generation: n.generation,
      });
    const stack = ["/"];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const n = this.main.get(path);
      if (!n) continue;
      emit(path, n);
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(childPath(path, n.children[i]!));
    }
    for (const path of [...this.main.nodes.keys()].filter((k) => k[0] === "@").sort())
      emit(path, this.main.get(path)!);
    const domains: SnapshotDomain[] = [...this.domains.values()]
      .sort((a, b) => a.domid - b.domid)
      .map((d) => ({
        domid: d.domid,
        introduced: d.introduced,
        ...(d.mfn !== undefined ? { mfn: d.mfn } : {}),
        ...(d.port !== undefined ? { port: d.port } : {}),
        ...(d.target !== undefined ? { target: d.target } : {}),
        ...(d.shutdown ? { shutdown: true } : {}),
      }));
    return {
      format: "xensim-xenstore",
      version: 1,
      generation: this.generation,
      nodes,
      domains,
      quotas: { ...this.quotas },
    };
  }

  /** Rebuilds an engine from a snapshot; quotas: defaults, then the snapshot's, then `opts.quotas`. */
  static restore(s: XenstoreSnapshot, opts: EngineOptions = {}): XenstoreEngine {
    if (s.format !== "xensim-xenstore" || s.version !== 1)
      throw new XenstoreStateError("unknown snapshot format");
    const e = new XenstoreEngine({ ...opts, quotas: { ...s.quotas, ...opts.quotas } });
    e.main.nodes.clear();
    e.main.counts.clear();
    e.domains.clear();
    for (const sn of s.nodes) {
      const perms: XsPerm[] = [];
      for (const ps of sn.perms) {
        const p = parseXsPerm(ps);
        if (!p) throw new XenstoreStateError(`bad permission ${ps} on ${sn.path}`);
        perms.push(p);
      }
      if (perms.length === 0) throw new XenstoreStateError(`no permissions on ${sn.path}`);
      e.main.put(sn.path, {
        value: fromBase64(sn.value),
        perms,
        children: [...sn.children],
        generation: sn.generation,
      });
    }
    e.generation = s.generation;
    for (const d of s.domains) e.domains.set(d.domid, { shutdown: false, ...d });
    const problems = e.checkStore();
    if (problems.length) throw new XenstoreStateError(`inconsistent snapshot: ${problems[0]}`);
    return e;
  }

  /** Replays journal mutations onto the main tree, without watch events. */
  applyMutations(ms: readonly Mutation[]): void {
    for (const m of ms) {
      switch (m.op) {
        case "set": {
          const old = this.main.get(m.path);
          const perms = m.perms.map((p) => ({ ...p }));
          if (perms.length === 0) throw new XenstoreStateError(`set ${m.path}: no permissions`);
          if (old) {
            this.main.put(m.path, { ...old, value: m.value.slice(), perms, generation: ++this.generation });
            break;
          }
          if (m.path[0] !== "@") {
            if (m.path === "/" || m.path[0] !== "/") throw new XenstoreStateError(`set ${m.path}: bad path`);
            const pp = parentPath(m.path);
            const parent = this.main.get(pp);
            if (!parent) throw new XenstoreStateError(`set ${m.path}: parent missing`);
            this.main.put(pp, {
              ...parent,
              children: [...parent.children, baseName(m.path)],
              generation: ++this.generation,
            });
          }
          this.main.put(m.path, {
            value: m.value.slice(),
            perms,
            children: [],
            generation: ++this.generation,
          });
          break;
        }
        case "rm": {
          const node = this.main.get(m.path);
          if (!node || m.path === "/") break;
          const stack = [m.path];
          while (stack.length > 0) {
            const path = stack.pop()!;
            const n = this.main.get(path);
            if (!n) continue;
            for (const c of n.children) stack.push(childPath(path, c));
            this.main.put(path, null);
          }
          const pp = parentPath(m.path);
          const parent = this.main.get(pp);
          if (parent && m.path[0] !== "@") {
            const base = baseName(m.path);
            this.main.put(pp, {
              ...parent,
              children: parent.children.filter((c) => c !== base),
              generation: ++this.generation,
            });
          }
          break;
        }
        case "domain":
          if (!m.introduced) this.domains.delete(m.domid);
          else {
            const d = this.domains.get(m.domid) ?? { domid: m.domid, introduced: true, shutdown: false };
            d.introduced = true;
            if (m.mfn !== undefined) d.mfn = m.mfn;
            if (m.port !== undefined) d.port = m.port;
            if (m.target !== undefined) d.target = m.target;
            this.domains.set(m.domid, d);
          }
          break;
      }
    }
  }

  /**
   * Consistency of the main tree (C check_store()): every child exists, every non-root node is listed
   * by its parent, every node has permissions, node counts match. Returns the problems found.
   */
  checkStore(): string[] {
    const problems: string[] = [];
    const reached = new Set<string>();
    const stack = ["/"];
    if (!this.main.get("/")) problems.push("no root node");
    while (stack.length > 0) {
      const path = stack.pop()!;
      const n = this.main.get(path);
      if (!n) {
        problems.push(`missing child ${path}`);
        continue;
      }
      if (reached.has(path)) {
        problems.push(`node ${path} reached twice`);
        continue;
      }
      reached.add(path);
      if (n.perms.length === 0) problems.push(`node ${path} has no permissions`);
      if (new Set(n.children).size !== n.children.length) problems.push(`duplicate child names in ${path}`);
      for (const c of n.children) {
        if (c === "" || c.includes("/")) problems.push(`bad child name ${JSON.stringify(c)} in ${path}`);
        else stack.push(childPath(path, c));
      }
    }
    const counts = new Map<number, number>();
    for (const [path, n] of this.main.nodes) {
      if (path[0] !== "@" && !reached.has(path)) problems.push(`orphan node ${path}`);
      if (path[0] === "@" && n.children.length) problems.push(`special node ${path} has children`);
      counts.set(ownerOf(n), (counts.get(ownerOf(n)) ?? 0) + 1);
    }
    for (const [d, c] of counts)
      if (this.main.count(d) !== c) problems.push(`node count of dom${d} is wrong`);
    if ([...this.main.counts.keys()].some((d) => !counts.has(d))) problems.push("stale node count");
    return problems;
  }
}

const CONTROL_HELP: readonly [string, string][] = [
  ["check", ""],
  ["print", "<string>"],
  ["quota", "[set <name> <val>|<domid>]"],
  ["quota-soft", "[set <name> <val>]"],
  ["help", ""],
];

/** wire_funcs[] flags of the handled types: PRIV (privileged only), NOTID (tx_id ignored). */
const WIRE_FLAGS = new Map<number, { priv?: boolean; noTxId?: boolean }>([
  [XsType.CONTROL, { priv: true }],
  [XsType.DIRECTORY, {}],
  [XsType.READ, {}],
  [XsType.GET_PERMS, {}],
  [XsType.WATCH, { noTxId: true }],
  [XsType.UNWATCH, { noTxId: true }],
  [XsType.TRANSACTION_START, {}],
  [XsType.TRANSACTION_END, {}],
  [XsType.INTRODUCE, { priv: true }],
  [XsType.RELEASE, { priv: true }],
  [XsType.GET_DOMAIN_PATH, {}],
  [XsType.WRITE, {}],
  [XsType.MKDIR, {}],
  [XsType.RM, {}],
  [XsType.SET_PERMS, {}],
  [XsType.IS_DOMAIN_INTRODUCED, { priv: true }],
  [XsType.RESUME, { priv: true }],
  [XsType.SET_TARGET, { priv: true }],
  [XsType.RESET_WATCHES, {}],
  [XsType.DIRECTORY_PART, {}],
]);
