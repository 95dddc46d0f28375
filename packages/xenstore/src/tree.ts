// The node store: an immutable-node main tree with per-owner node counts, and copy-on-write layers
// (a transaction, or one request being staged) on top of it.

import { childPath } from "./path.js";
import type { XsPerm } from "./perms.js";

/** One node. Nodes are never mutated in place: a change stores a new object. */
export interface XsNode {
  readonly value: Uint8Array;
  readonly perms: readonly XsPerm[];
  /** Child names in insertion order (C xenstored's children blob). */
  readonly children: readonly string[];
  /** Generation count of the last change (C xenstored node_hdr.generation). */
  readonly generation: number;
}

/** Generation count recorded for a node that did not exist (C NO_GENERATION). */
export const NO_GENERATION = -1;

/** Accounted node size as C xenstored computes it: node_hdr + permissions + value + child names. */
export function nodeSize(value: Uint8Array, perms: readonly XsPerm[], children: readonly string[]): number {
  let childlen = 0;
  for (const c of children) childlen += c.length + 1;
  return 16 + perms.length * 8 + value.length + childlen;
}

/** Store memory of one node as C xenstored accounts it to the owner: its size plus its name. */
export function nodeMemory(path: string, node: XsNode): number {
  return nodeSize(node.value, node.perms, node.children) + path.length;
}

export function ownerOf(node: XsNode): number {
  return node.perms[0]!.id;
}

export interface NodeReader {
  get(path: string): XsNode | undefined;
}

/** The committed tree. */
export class MainTree implements NodeReader {
  readonly nodes = new Map<string, XsNode>();
  /** Nodes per owner domid (the "nodes" quota accounting). */
  readonly counts = new Map<number, number>();
  /** Node memory per owner domid (nodeMemory, part of the "memory" quota accounting). */
  readonly memory = new Map<number, number>();

  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  count(domid: number): number {
    return this.counts.get(domid) ?? 0;
  }

  memoryOf(domid: number): number {
    return this.memory.get(domid) ?? 0;
  }

  /** Stores (or with null removes) exactly one node; children lists are the caller's business. */
  put(path: string, node: XsNode | null): void {
    const old = this.nodes.get(path);
    if (old) {
      addCount(this.counts, ownerOf(old), -1);
      addCount(this.memory, ownerOf(old), -nodeMemory(path, old));
    }
    if (node) {
      this.nodes.set(path, node);
      addCount(this.counts, ownerOf(node), 1);
      addCount(this.memory, ownerOf(node), nodeMemory(path, node));
    } else this.nodes.delete(path);
  }
}

export function addCount(m: Map<number, number>, domid: number, add: number): void {
  const v = (m.get(domid) ?? 0) + add;
  if (v === 0) m.delete(domid);
  else m.set(domid, v);
}

/** Copy-on-write changes over another reader. `null` in the overlay marks a removed node. */
export class Layer implements NodeReader {
  readonly overlay = new Map<string, XsNode | null>();
  /** Change of nodes per owner relative to the layer below. */
  readonly countDelta = new Map<number, number>();
  /** Memory the overlay holds: its nodes (nodeMemory) and the names of the nodes it removes. */
  heldBytes = 0;

  constructor(readonly below: NodeReader) {}

  /**
   * Copies of nodes as first read (a transaction's private view of what it read, C's "ta node" for
   * read accesses). Consulted after the overlay; never merged.
   */
  readonly pinned = new Map<string, XsNode>();

  get(path: string): XsNode | undefined {
    const v = this.overlay.get(path);
    if (v !== undefined) return v ?? undefined;
    return this.pinned.get(path) ?? this.below.get(path);
  }

  put(path: string, node: XsNode | null): void {
    const old = this.get(path);
    if (old) addCount(this.countDelta, ownerOf(old), -1);
    if (node) addCount(this.countDelta, ownerOf(node), 1);
    const replaced = this.overlay.get(path);
    if (replaced !== undefined) this.heldBytes -= replaced ? nodeMemory(path, replaced) : path.length;
    this.heldBytes += node ? nodeMemory(path, node) : path.length;
    this.overlay.set(path, node);
  }

  /** Moves this layer's changes into `target` (a layer or the main tree's put). */
  mergeInto(target: { put(path: string, node: XsNode | null): void }): void {
    for (const [path, node] of this.overlay) target.put(path, node);
  }
}

/**
 * Consistency of a committed tree (C check_store()): every child exists, every non-root node is
 * listed by its parent, every node has permissions, node counts match. Returns the problems found.
 */
export function checkTree(main: MainTree): string[] {
  const problems: string[] = [];
  const reached = new Set<string>();
  const stack = ["/"];
  if (!main.get("/")) problems.push("no root node");
  while (stack.length > 0) {
    const path = stack.pop()!;
    const node = main.get(path);
    if (!node) {
      problems.push(`missing child ${path}`);
      continue;
    }
    if (reached.has(path)) {
      problems.push(`node ${path} reached twice`);
      continue;
    }
    reached.add(path);
    if (node.perms.length === 0) problems.push(`node ${path} has no permissions`);
    if (new Set(node.children).size !== node.children.length)
      problems.push(`duplicate child names in ${path}`);
    for (const child of node.children) {
      if (child === "" || child.includes("/"))
        problems.push(`bad child name ${JSON.stringify(child)} in ${path}`);
      else stack.push(childPath(path, child));
    }
  }
  const counts = new Map<number, number>();
  for (const [path, node] of main.nodes) {
    if (path[0] !== "@" && !reached.has(path)) problems.push(`orphan node ${path}`);
    if (path[0] === "@" && node.children.length) problems.push(`special node ${path} has children`);
    counts.set(ownerOf(node), (counts.get(ownerOf(node)) ?? 0) + 1);
  }
  const memory = new Map<number, number>();
  for (const [path, node] of main.nodes) addCount(memory, ownerOf(node), nodeMemory(path, node));
  for (const [domid, count] of counts)
    if (main.count(domid) !== count) problems.push(`node count of dom${domid} is wrong`);
  if ([...main.counts.keys()].some((domid) => !counts.has(domid))) problems.push("stale node count");
  for (const [domid, bytes] of memory)
    if (main.memoryOf(domid) !== bytes) problems.push(`node memory of dom${domid} is wrong`);
  if ([...main.memory.keys()].some((domid) => !memory.has(domid))) problems.push("stale node memory");
  return problems;
}
