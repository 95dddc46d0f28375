// Snapshots: the whole store as JSON (tree in pre-order, domains, quotas), and back.

import { fromBase64, toBase64 } from "./bytes.js";
import { XenstoreStateError } from "./errors.js";
import { childPath } from "./path.js";
import { formatXsPerm, parseXsPerm, type XsPerm } from "./perms.js";
import type { EngineState } from "./state.js";
import { checkTree, type XsNode } from "./tree.js";
import type { SnapshotDomain, SnapshotNode, XenstoreSnapshot } from "./types.js";

export function takeSnapshot(state: EngineState): XenstoreSnapshot {
  const nodes: SnapshotNode[] = [];
  const emit = (path: string, node: XsNode) =>
    nodes.push({
      path,
      value: toBase64(node.value),
      perms: node.perms.map(formatXsPerm),
      children: [...node.children],
      generation: node.generation,
    });
  const stack = ["/"];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const node = state.main.get(path);
    if (!node) continue;
    emit(path, node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(childPath(path, node.children[i]!));
  }
  for (const path of [...state.main.nodes.keys()].filter((k) => k[0] === "@").sort())
    emit(path, state.main.get(path)!);
  const domains: SnapshotDomain[] = [...state.domains.values()]
    .sort((a, b) => a.domid - b.domid)
    .map((domain) => ({
      domid: domain.domid,
      introduced: domain.introduced,
      ...(domain.mfn !== undefined ? { mfn: domain.mfn } : {}),
      ...(domain.port !== undefined ? { port: domain.port } : {}),
      ...(domain.target !== undefined ? { target: domain.target } : {}),
      ...(domain.shutdown ? { shutdown: true } : {}),
    }));
  return {
    format: "xensim-xenstore",
    version: 1,
    generation: state.generation,
    nodes,
    domains,
    quotas: { ...state.quotas },
  };
}

/** Replaces the tree and domains of a fresh state with a snapshot's (quotas are the caller's). */
export function restoreSnapshot(state: EngineState, snapshot: XenstoreSnapshot): void {
  if (snapshot.format !== "xensim-xenstore" || snapshot.version !== 1)
    throw new XenstoreStateError("unknown snapshot format");
  state.main.nodes.clear();
  state.main.counts.clear();
  state.main.memory.clear();
  state.domains.clear();
  for (const saved of snapshot.nodes) {
    const perms: XsPerm[] = [];
    for (const text of saved.perms) {
      const perm = parseXsPerm(text);
      if (!perm) throw new XenstoreStateError(`bad permission ${text} on ${saved.path}`);
      perms.push(perm);
    }
    if (perms.length === 0) throw new XenstoreStateError(`no permissions on ${saved.path}`);
    state.main.put(saved.path, {
      value: fromBase64(saved.value),
      perms,
      children: [...saved.children],
      generation: saved.generation,
    });
  }
  state.generation = snapshot.generation;
  for (const domain of snapshot.domains) state.domains.set(domain.domid, { shutdown: false, ...domain });
  const problems = checkTree(state.main);
  if (problems.length) throw new XenstoreStateError(`inconsistent snapshot: ${problems[0]}`);
}
