// One request being handled (C struct buffered_data plus the core.c node functions it calls): every
// tree change is staged in a copy-on-write layer and kept only when the whole request succeeds
// (XSA-414/415). Node access here checks permissions and the node quotas as C xenstored does.

import type { XsErrorName } from "@xensim/abi";
import { accessFor } from "./access.js";
import { domainMemory } from "./accounting.js";
import { XsError } from "./errors.js";
import { baseName, canonicalize, childPath, domainPath, parentPath } from "./path.js";
import { XS_PERM_NONE, type XsPerm } from "./perms.js";
import { quotaExceeded } from "./quota.js";
import type { Connection, EngineState, Transaction, WatchMatch } from "./state.js";
import { Layer, NO_GENERATION, type NodeReader, nodeMemory, nodeSize, type XsNode } from "./tree.js";
import type { Effect, Mutation, WatchDelivery } from "./types.js";

const EMPTY = new Uint8Array(0);

/** A watch to fire once the request has succeeded. Permissions captured at the time of the change. */
export interface WatchFire {
  name: string;
  match: WatchMatch;
  /** The node's permissions; looked up in the main tree when absent. */
  nodePerms?: readonly XsPerm[];
  /** The parent's permissions; looked up in the main tree when absent. */
  parentPerms?: readonly XsPerm[];
  /** Permissions before a SET_PERMS or a transaction. */
  oldPerms?: readonly XsPerm[];
}

export class Request {
  readonly stage: Layer;
  /** Tree changes of this request, in order (journal mutations, or the transaction's ops). */
  readonly ops: Mutation[] = [];
  readonly fires: WatchFire[] = [];
  /** Watches a change inside a transaction fires when the transaction commits. */
  readonly txFires: { path: string; match: WatchMatch }[] = [];
  /** Direct deliveries (the WATCH's first event), after the fired ones. */
  readonly events: WatchDelivery[] = [];
  /** Mutations outside the tree staging (domains, a committed transaction's ops). */
  readonly mutations: Mutation[] = [];
  readonly effects: Effect[] = [];

  constructor(
    readonly state: EngineState,
    readonly conn: Connection,
    readonly tx: Transaction | undefined,
    below: NodeReader,
  ) {
    this.stage = new Layer(below);
  }

  /** The caller's XS_PERM_* bits on a node with `perms`. */
  access(perms: readonly XsPerm[]): number {
    return accessFor(this.state, this.conn, perms);
  }

  /** canonicalize() for this caller: EINVAL for a bad path, path-max for unprivileged callers. */
  canonical(raw: string | undefined, allowSpecial: boolean): { name: string; relative: boolean } {
    const r = canonicalize(
      raw,
      domainPath(this.conn.domid),
      allowSpecial,
      this.conn.privileged ? undefined : this.state.quotaOf(this.conn.domid, "pathMax"),
    );
    if (!r.ok) throw new XsError("EINVAL", "bad path");
    return r;
  }

  /** read_node(): in a transaction the first access records the node's generation. */
  read(path: string): XsNode | undefined {
    if (this.tx) this.recordAccess(path, true);
    return this.stage.get(path);
  }

  /** Records a transaction's first access to `path` (the transaction-nodes quota counts them). */
  recordAccess(path: string, check: boolean): void {
    const tx = this.tx!;
    if (tx.accessed.has(path)) return;
    if (
      !this.conn.privileged &&
      quotaExceeded(this.state.quotaOf(this.conn.domid, "transactionNodes"), tx.accessed.size + 1)
    ) {
      tx.failed = true;
      throw this.state.quotaError("transaction-nodes");
    }
    this.checkMemory(path.length);
    tx.accessedBytes += path.length; // counted in the transaction's memory from now on
    const node = tx.layer.get(path);
    if (node && check) tx.layer.pinned.set(path, node);
    tx.accessed.set(path, {
      generation: node ? node.generation : NO_GENERATION,
      perms: node?.perms,
      check,
      fire: undefined,
    });
  }

  /** write_node(): the node-size quota, then the staged write with a new generation. */
  writeNode(path: string, value: Uint8Array, perms: readonly XsPerm[], old: XsNode): void {
    if (
      !this.conn.privileged &&
      quotaExceeded(this.state.quotaOf(this.conn.domid, "nodeSize"), nodeSize(value, perms, old.children))
    ) {
      if (this.tx) this.tx.failed = true;
      throw this.state.quotaError("node-size");
    }
    if (this.tx) this.recordAccess(path, false);
    const node: XsNode = { value, perms, children: old.children, generation: this.state.generation + 1 };
    this.chargeMemory(nodeMemory(path, node) - this.replacedMemory(path));
    ++this.state.generation;
    this.stage.put(path, node);
    this.ops.push({ op: "set", path, value, perms: [...perms] });
  }

  /**
   * Memory this request has added so far for its caller (checked against the memory quota before
   * it is kept).
   */
  private charged = 0;

  /**
   * domain_memory_add_chk(): an unprivileged caller's memory (nodes, watches, transactions,
   * queued output) may not reach its memory quota; ENOMEM, and the request changes nothing.
   */
  chargeMemory(bytes: number): void {
    if (this.conn.privileged || bytes <= 0) return;
    this.checkMemory(bytes);
    this.charged += bytes;
  }

  private checkMemory(bytes: number): void {
    if (this.conn.privileged || bytes <= 0) return;
    const domid = this.conn.domid;
    const used = domainMemory(this.state, domid) + this.charged;
    if (quotaExceeded(this.state.quotaOf(domid, "memory"), used + bytes)) throw this.state.memoryQuotaError();
  }

  /** Memory of what a change of `path` replaces where the change lands (request, transaction or tree). */
  private replacedMemory(path: string): number {
    const held =
      this.stage.overlay.get(path) ?? (this.tx ? this.tx.layer.overlay.get(path) : this.state.main.get(path));
    if (held === undefined) return 0;
    return held === null ? path.length : nodeMemory(path, held);
  }

  /** Queues a watch: at the end of this request, or at the commit of its transaction. */
  fire(watchFire: WatchFire): void {
    if (this.tx) this.txFires.push({ path: watchFire.name, match: watchFire.match });
    else this.fires.push(watchFire);
  }

  /** The nearest existing ancestor's access for the caller (ask_parents()). */
  private askParents(name: string): number {
    let path = name;
    let node: XsNode | undefined;
    do {
      path = parentPath(path);
      node = this.read(path);
      if (node) break;
    } while (path !== "/");
    return node ? this.access(node.perms) : XS_PERM_NONE;
  }

  /**
   * get_node() with its permission check. A missing node is ENOENT only if the nearest existing
   * ancestor grants the caller the same access; otherwise EACCES, so nothing leaks.
   */
  getNode(name: string, perm: number): XsNode {
    const node = this.read(name);
    let err: XsErrorName;
    if (node) {
      if ((this.access(node.perms) & perm) === perm) return node;
      err = "EACCES";
    } else err = "ENOENT";
    throw new XsError(this.askParents(name) & perm ? err : "EACCES");
  }

  /** Nodes `domid` owns as this request sees them (main tree + transaction + this request). */
  private nodeCountOf(domid: number): number {
    return (
      this.state.main.count(domid) +
      (this.tx?.layer.countDelta.get(domid) ?? 0) +
      (this.stage.countDelta.get(domid) ?? 0)
    );
  }

  /**
   * create_node(): makes `name` and its missing parents. New nodes inherit the nearest parent's
   * permissions; an unprivileged creator becomes their owner. Quotas are checked bottom-up as C
   * xenstored does before anything is written.
   */
  createNode(name: string, value: Uint8Array): readonly XsPerm[] {
    const names = [name];
    let parentName = parentPath(name);
    let parent = this.read(parentName);
    while (!parent) {
      if (parentName === "/") throw new XsError("EIO", "no root node");
      names.push(parentName);
      parentName = parentPath(parentName);
      parent = this.read(parentName);
    }
    const tx = this.tx;
    if (tx) tx.nodeCreated = true;
    const perms = parent.perms.map((p) => ({ ...p }));
    if (!this.conn.privileged) perms[0] = { id: this.conn.domid, perm: perms[0]!.perm };

    if (!this.conn.privileged) {
      const domid = this.conn.domid;
      const nodesQuota = this.state.quotaOf(domid, "nodes");
      const nodeSizeQuota = this.state.quotaOf(domid, "nodeSize");
      const base = this.nodeCountOf(domid);
      let memory = 0;
      for (let k = 0; k < names.length; k++) {
        if (quotaExceeded(nodesQuota, base + k + 1)) {
          if (tx && k > 0) tx.failed = true;
          throw this.state.quotaError("nodes");
        }
        const size = k === 0 ? nodeSize(value, perms, []) : nodeSize(EMPTY, perms, [baseName(names[k - 1]!)]);
        if (quotaExceeded(nodeSizeQuota, size)) {
          if (tx) tx.failed = true;
          throw this.state.quotaError("node-size");
        }
        memory += size + names[k]!.length;
      }
      const top = baseName(names[names.length - 1]!);
      if (quotaExceeded(nodeSizeQuota, nodeSize(parent.value, parent.perms, [...parent.children, top]))) {
        if (tx) tx.failed = true;
        throw this.state.quotaError("node-size");
      }
      // The parent gains a child name; in a transaction it is a private copy of the parent.
      memory += top.length + 1 + (tx ? nodeMemory(parentName, parent) - this.replacedMemory(parentName) : 0);
      this.chargeMemory(memory);
    }

    const topName = names[names.length - 1]!;
    this.stage.put(parentName, {
      ...parent,
      children: [...parent.children, baseName(topName)],
      generation: ++this.state.generation,
    });
    for (let k = names.length - 1; k >= 0; k--) {
      const nodeValue = k === 0 ? value : EMPTY;
      this.stage.put(names[k]!, {
        value: nodeValue,
        perms,
        children: k === 0 ? [] : [baseName(names[k - 1]!)],
        generation: ++this.state.generation,
      });
      this.ops.push({ op: "set", path: names[k]!, value: nodeValue, perms: perms.map((p) => ({ ...p })) });
    }
    return perms;
  }

  /** rm_node(): removes a subtree with an iterative post-order walk (XSA-418), firing as it goes. */
  removeSubtree(root: string, rootNode: XsNode): void {
    const parentName = parentPath(root);
    const parent = this.read(parentName);
    if (!parent) throw new XsError("EINVAL");
    const stack: { path: string; node: XsNode; next: number }[] = [{ path: root, node: rootNode, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.node.children.length) {
        const path = childPath(top.path, top.node.children[top.next++]!);
        const node = this.read(path);
        if (node) stack.push({ path, node, next: 0 });
        continue;
      }
      stack.pop();
      const up = stack[stack.length - 1];
      if (this.tx) this.recordAccess(top.path, false);
      this.stage.put(top.path, null);
      this.fire({
        name: top.path,
        match: up ? "exact" : "subtree",
        nodePerms: top.node.perms,
        ...(up ? { parentPerms: up.node.perms } : {}),
      });
    }
    const base = baseName(root);
    this.stage.put(parentName, {
      ...parent,
      children: parent.children.filter((c) => c !== base),
      generation: ++this.state.generation,
    });
    this.ops.push({ op: "rm", path: root });
  }
}
