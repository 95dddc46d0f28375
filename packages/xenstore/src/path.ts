// Node names: validity, parents, and watch matching (C xenstored canonicalize, get_parent, is_child).

import { XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX } from "@xensim/abi";

/** The special watch nodes fired on domain introduction and release. */
export const XS_INTRODUCE_DOMAIN = "@introduceDomain";
export const XS_RELEASE_DOMAIN = "@releaseDomain";

const VALID_CHARS = /^[A-Za-z0-9\-/_@]*$/;

/** The home of a domain, "/local/domain/<domid>", which relative paths are relative to. */
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

/**
 * Length of a leading "/local/domain/<id>/" (scanf "%5u/"), 0 if there is none. C xenstored checks
 * the path-max quota on the length after this prefix.
 */
export function localDomainPrefixLength(name: string): number {
  const m = /^\/local\/domain\/(?:-\d{1,4}|\d{1,5})\//.exec(name);
  return m ? m[0].length : 0;
}

export type CanonicalizeResult = { ok: true; name: string; relative: boolean } | { ok: false };

/**
 * canonicalize(): validates a node name from the wire and makes it absolute. Invalid if it has
 * characters outside A-Z a-z 0-9 - / _ @, starts with @ where no special node is allowed, ends in /
 * (other than "/"), contains //, or is too long: longer than XENSTORE_ABS_PATH_MAX absolute or
 * XENSTORE_REL_PATH_MAX relative, or (unprivileged callers) not shorter than `pathMax` after the
 * "/local/domain/<id>/" prefix. An empty name is relative and ends in "/", so it is invalid too.
 */
export function canonicalize(
  node: string | undefined,
  home: string,
  allowSpecial: boolean,
  pathMax: number | undefined,
): CanonicalizeResult {
  if (node === undefined || !VALID_CHARS.test(node) || (node[0] === "@" && !allowSpecial))
    return { ok: false };
  const relative = node[0] !== "/" && node[0] !== "@";
  if (node.length > (relative ? XENSTORE_REL_PATH_MAX : XENSTORE_ABS_PATH_MAX)) return { ok: false };
  const name = relative ? `${home}/${node}` : node;
  if (name.endsWith("/") && name !== "/") return { ok: false };
  if (name.includes("//")) return { ok: false };
  if (pathMax !== undefined && pathMax > 0 && name.length - localDomainPrefixLength(name) >= pathMax) {
    return { ok: false };
  }
  return { ok: true, name, relative };
}

/** get_parent(): "/a/b" → "/a", "/a" → "/", "/" → "/", "@x" → "/". */
export function parentPath(name: string): string {
  const slash = name.lastIndexOf("/");
  return slash >= 1 ? name.slice(0, slash) : "/";
}

/** The last component of a name (not "/"). */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

/** child_name(): joins a parent and a child component. */
export function childPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}

/**
 * is_child(): is `child` the node `parent` or below it, at most `depth` levels down (depth < 0: any)?
 * Mirrors C xenstored, including its treatment of "/".
 */
export function isChild(child: string, parent: string, depth: number): boolean {
  let len = parent.length;
  let subLevels = len === 1 ? 1 : 0;
  if (!child.startsWith(parent)) return false;
  if (len > 1 && child.length > len && child[len] !== "/") return false;
  if (depth < 0 || child.length === len) return true;
  while (subLevels <= depth) {
    if (len >= child.length) return true;
    if (child[len] === "/") subLevels++;
    len++;
  }
  return false;
}
