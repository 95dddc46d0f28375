// The requests on nodes (core.c): READ, DIRECTORY, DIRECTORY_PART, GET_PERMS, WRITE, MKDIR, RM and
// SET_PERMS. Permission and quota checks live in Request's node functions.

import { XENSTORE_PAYLOAD_MAX } from "@xensim/abi";
import { binaryStrings, binaryToBytes, bytesToBinary, cAtoi } from "./bytes.js";
import { XsError } from "./errors.js";
import { parentPath } from "./path.js";
import { OK_PAYLOAD, payloadNulCount, payloadOneArg, payloadStrings } from "./payload.js";
import {
  formatXsPerm,
  parseXsPerm,
  XS_PERM_OWNER,
  XS_PERM_READ,
  XS_PERM_WRITE,
  type XsPerm,
} from "./perms.js";
import { quotaExceeded } from "./quota.js";
import type { Request } from "./request.js";
import { ownerOf, type XsNode } from "./tree.js";

const EMPTY = new Uint8Array(0);

function isNotFound(err: unknown): boolean {
  return err instanceof XsError && err.code === "ENOENT";
}

export function handleDirectory(req: Request, payload: Uint8Array): Uint8Array {
  const { name } = req.canonical(payloadOneArg(payload), false);
  return binaryStrings(req.getNode(name, XS_PERM_READ).children);
}

export function handleRead(req: Request, payload: Uint8Array): Uint8Array {
  const { name } = req.canonical(payloadOneArg(payload), false);
  return req.getNode(name, XS_PERM_READ).value.slice();
}

export function handleGetPerms(req: Request, payload: Uint8Array): Uint8Array {
  const { name } = req.canonical(payloadOneArg(payload), true);
  return binaryStrings(req.getNode(name, XS_PERM_READ).perms.map(formatXsPerm));
}

/** WRITE path\0value: creates the node and its missing parents, or replaces its value. */
export function handleWrite(req: Request, payload: Uint8Array): Uint8Array {
  const nul = payload.indexOf(0);
  if (nul < 0) throw new XsError("EINVAL");
  const { name } = req.canonical(bytesToBinary(payload, 0, nul), false);
  const value = payload.slice(nul + 1);
  let node: XsNode;
  try {
    node = req.getNode(name, XS_PERM_WRITE);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const perms = req.createNode(name, value);
    req.fire({ name, match: "subtree", nodePerms: perms });
    return OK_PAYLOAD;
  }
  req.writeNode(name, value, node.perms, node);
  req.fire({ name, match: "subtree", nodePerms: node.perms });
  return OK_PAYLOAD;
}

/** MKDIR: a no-op if the node exists. */
export function handleMkdir(req: Request, payload: Uint8Array): Uint8Array {
  const { name } = req.canonical(payloadOneArg(payload), false);
  try {
    req.getNode(name, XS_PERM_WRITE);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const perms = req.createNode(name, EMPTY);
    req.fire({ name, match: "subtree", nodePerms: perms });
  }
  return OK_PAYLOAD;
}

/** RM: recursive; not an error if the node is absent but its parent exists. */
export function handleRm(req: Request, payload: Uint8Array): Uint8Array {
  const { name } = req.canonical(payloadOneArg(payload), false);
  let node: XsNode;
  try {
    node = req.getNode(name, XS_PERM_WRITE);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    if (req.read(parentPath(name))) return OK_PAYLOAD;
    throw err;
  }
  if (name === "/") throw new XsError("EINVAL", "cannot remove /");
  req.removeSubtree(name, node);
  return OK_PAYLOAD;
}

/** SET_PERMS path\0perm\0…: only the owner; only privileged callers may change the owner. */
export function handleSetPerms(req: Request, payload: Uint8Array): Uint8Array {
  const nuls = payloadNulCount(payload);
  if (nuls < 2) throw new XsError("EINVAL");
  const permCount = nuls - 1;
  if (
    !req.conn.privileged &&
    quotaExceeded(req.state.quotaOf(req.conn.domid, "nodePermissions"), permCount)
  ) {
    throw req.state.quotaError("node-permissions");
  }
  const strings = payloadStrings(payload);
  const perms: XsPerm[] = [];
  for (const text of strings.slice(1, 1 + permCount)) {
    const perm = parseXsPerm(text);
    if (!perm) throw new XsError("EINVAL", "bad permission");
    perms.push(perm);
  }
  const { name } = req.canonical(strings[0], true);
  const node = req.getNode(name, XS_PERM_WRITE | XS_PERM_OWNER);
  if (!req.conn.privileged && perms[0]!.id !== ownerOf(node)) throw new XsError("EPERM");
  req.writeNode(name, node.value, perms, node);
  req.fire({ name, match: "subtree", nodePerms: perms, oldPerms: node.perms });
  return OK_PAYLOAD;
}

/** DIRECTORY_PART path\0offset\0: generation, then as many children as fit; "" marks the end. */
export function handleDirectoryPart(req: Request, payload: Uint8Array): Uint8Array {
  if (payloadNulCount(payload) !== 2) throw new XsError("EINVAL");
  const strings = payloadStrings(payload);
  const { name } = req.canonical(strings[0], false);
  const node = req.getNode(name, XS_PERM_READ);
  const offset = cAtoi(strings[1]!) >>> 0;
  const generation = String(node.generation);
  const children = binaryStrings(node.children);
  if (offset >= children.length) return binaryStrings([generation, ""]);
  const maxLen = XENSTORE_PAYLOAD_MAX - (generation.length + 1) - 1;
  let len = 0;
  let pos = offset;
  for (;;) {
    let end = pos;
    while (end < children.length && children[end] !== 0) end++;
    const childLen = end - pos;
    if (len + childLen >= maxLen) break;
    len += childLen + 1;
    pos += childLen + 1;
    if (offset + len >= children.length) break;
  }
  const last = offset + len >= children.length;
  const out = new Uint8Array(generation.length + 1 + len + (last ? 1 : 0));
  out.set(binaryToBytes(generation), 0);
  out.set(children.subarray(offset, offset + len), generation.length + 1);
  return out;
}
