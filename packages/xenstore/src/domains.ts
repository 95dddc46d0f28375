// Domains (tools/xenstored/domain.c): INTRODUCE, RELEASE, RESUME, SET_TARGET, IS_DOMAIN_INTRODUCED,
// GET_DOMAIN_PATH, and what happens when a domain dies: its watches and transactions go, the nodes
// it owns are deleted and its permission entries removed (XSA-322/419), @releaseDomain fires.

import { DOMID_SELF } from "@xensim/abi";
import { cAtoi } from "./bytes.js";
import { runSystem } from "./commit.js";
import { XsError } from "./errors.js";
import { childPath, domainPath, XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN } from "./path.js";
import { OK_PAYLOAD, parseDomid, payloadOneArg, payloadStrings, textReply } from "./payload.js";
import type { Request } from "./request.js";
import type { Domain, EngineState } from "./state.js";
import { ownerOf } from "./tree.js";
import type { Mutation, Output } from "./types.js";
import { fireSpecialWatches } from "./watches.js";

function emptyOutput(): Output {
  return { reply: null, events: [], mutations: [], effects: [] };
}

function domainMutation(domain: Domain): Mutation {
  return {
    op: "domain",
    domid: domain.domid,
    introduced: domain.introduced,
    ...(domain.mfn !== undefined ? { mfn: domain.mfn } : {}),
    ...(domain.port !== undefined ? { port: domain.port } : {}),
    ...(domain.target !== undefined ? { target: domain.target } : {}),
  };
}

/** INTRODUCE domid\0mfn\0port\0: re-introduction is OK and resets the domain's connections. */
export function handleIntroduce(req: Request, payload: Uint8Array, out: Output): Uint8Array {
  const strings = payloadStrings(payload);
  if (strings.length < 3) throw new XsError("EINVAL");
  const domid = parseDomid(strings[0]!);
  const mfn = strings[1]!;
  const port = cAtoi(strings[2]!);
  if (port <= 0) throw new XsError("EINVAL", "bad event channel");
  const state = req.state;
  let domain = state.domains.get(domid);
  const fresh = !domain?.introduced;
  if (!domain) {
    domain = { domid, introduced: true, mfn, port, shutdown: false };
    state.domains.set(domid, domain);
  }
  domain.introduced = true;
  domain.mfn = mfn;
  domain.port = port;
  if (fresh) domain.shutdown = false;
  if (domid !== 0) state.resetDomainConnections(domid);
  req.mutations.push(domainMutation(domain));
  req.effects.push({ kind: "introduce", domid, mfn, port });
  if (fresh && !state.isPrivilegedDomid(domid)) {
    runSystem(state, out, (system) => fireSpecialWatches(system, XS_INTRODUCE_DOMAIN, domid, true, true));
  }
  return OK_PAYLOAD;
}

/** onearg_domain(): an introduced domain other than dom0. */
function oneArgDomain(state: EngineState, payload: Uint8Array): Domain {
  const arg = payloadOneArg(payload);
  if (arg === undefined) throw new XsError("EINVAL");
  const domid = parseDomid(arg);
  if (state.isPrivilegedDomid(domid)) throw new XsError("EINVAL");
  return introducedDomain(state, domid);
}

function introducedDomain(state: EngineState, domid: number): Domain {
  const domain = state.domains.get(domid);
  if (!domain?.introduced) throw new XsError("ENOENT", "domain not introduced");
  return domain;
}

export function handleRelease(req: Request, payload: Uint8Array, out: Output): Uint8Array {
  const domain = oneArgDomain(req.state, payload);
  destroyDomain(req.state, domain.domid, out);
  req.effects.push({ kind: "release", domid: domain.domid });
  return OK_PAYLOAD;
}

/**
 * destroy_domain(): drops the domain's watches and transactions, forgets it, deletes the nodes it
 * owns and removes it from other nodes' permissions (XSA-322/419), then fires @releaseDomain if it
 * was introduced.
 */
function destroyDomain(state: EngineState, domid: number, out: Output): void {
  const domain = state.domains.get(domid);
  const introduced = domain?.introduced ?? false;
  state.resetDomainConnections(domid);
  state.domainQuotas.delete(domid);
  runSystem(state, out, (system) => {
    if (domain) {
      state.domains.delete(domid);
      system.mutations.push({ op: "domain", domid, introduced: false });
    }
    domainTreeRemove(system, domid);
    if (introduced) fireSpecialWatches(system, XS_RELEASE_DOMAIN, domid, true, true);
  });
}

/** domain_tree_remove(): iterative pre-order walk of "/" and the special nodes. */
function domainTreeRemove(req: Request, domid: number): void {
  for (const root of ["/", XS_RELEASE_DOMAIN, XS_INTRODUCE_DOMAIN]) {
    const stack = [root];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const node = req.stage.get(path);
      if (!node) continue;
      if (ownerOf(node) === domid && path !== "/" && path[0] !== "@") {
        req.removeSubtree(path, node);
        continue;
      }
      const kept = node.perms.filter((perm, i) => i === 0 || perm.id !== domid);
      // A special node is never deleted: it goes back to dom0.
      if (ownerOf(node) === domid) kept[0] = { id: 0, perm: kept[0]!.perm };
      if (kept.length !== node.perms.length || ownerOf(node) === domid) {
        // write_node_raw(): no new generation, no watch event.
        req.stage.put(path, { ...node, perms: kept });
        req.ops.push({ op: "set", path, value: node.value, perms: kept.map((perm) => ({ ...perm })) });
      }
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(childPath(path, node.children[i]!));
    }
  }
}

export function handleGetDomainPath(_req: Request, payload: Uint8Array): Uint8Array {
  const arg = payloadOneArg(payload);
  if (arg === undefined) throw new XsError("EINVAL");
  return textReply(domainPath(parseDomid(arg)));
}

export function handleIsDomainIntroduced(req: Request, payload: Uint8Array): Uint8Array {
  const arg = payloadOneArg(payload);
  if (arg === undefined) throw new XsError("EINVAL");
  const domid = parseDomid(arg);
  const yes = domid === DOMID_SELF || req.state.domains.get(domid)?.introduced === true;
  return textReply(yes ? "T" : "F");
}

export function handleResume(req: Request, payload: Uint8Array): Uint8Array {
  const domain = oneArgDomain(req.state, payload);
  domain.shutdown = false;
  req.effects.push({ kind: "resume", domid: domain.domid });
  return OK_PAYLOAD;
}

/** SET_TARGET domid\0target\0: domid gets target's rights (a device model for its guest). */
export function handleSetTarget(req: Request, payload: Uint8Array): Uint8Array {
  const strings = payloadStrings(payload);
  if (strings.length < 2) throw new XsError("EINVAL");
  const domid = parseDomid(strings[0]!);
  const targetDomid = parseDomid(strings[1]!);
  const domain = introducedDomain(req.state, domid);
  introducedDomain(req.state, targetDomid);
  domain.target = targetDomid;
  req.mutations.push(domainMutation(domain));
  return OK_PAYLOAD;
}

/**
 * The hypervisor reported the domain dead (VIRQ_DOM_EXC): forget it, delete the nodes it owns and
 * its permission entries, fire @releaseDomain if it was introduced.
 */
export function domainGone(state: EngineState, domid: number): Output {
  const out = emptyOutput();
  if (state.isPrivilegedDomid(domid)) return out;
  const introduced = state.domains.get(domid)?.introduced ?? false;
  destroyDomain(state, domid, out);
  if (introduced) out.effects.push({ kind: "release", domid });
  return out;
}

/** The domain shut down but is not dead yet: fire @releaseDomain once (C do_check_domain()). */
export function domainShutdown(state: EngineState, domid: number): Output {
  const out = emptyOutput();
  const domain = state.domains.get(domid);
  if (!domain?.introduced || domain.shutdown) return out;
  domain.shutdown = true;
  runSystem(state, out, (system) => fireSpecialWatches(system, XS_RELEASE_DOMAIN, domid, true, true));
  return out;
}
