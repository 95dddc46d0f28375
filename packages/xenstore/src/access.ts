// Who may do what to a node (core.c perm_for_conn): owners, the SET_TARGET target and privileged
// callers get everything; anyone else the first entry naming them, else the node's default.

import { permAccessBits, XS_PERM_OWNER, XS_PERM_READ, XS_PERM_WRITE, type XsPerm } from "./perms.js";
import type { Connection, EngineState } from "./state.js";

const ALL_ACCESS = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

/** perm_for_conn(): the XS_PERM_* bits `conn` has on a node with permissions `perms`. */
export function accessFor(state: EngineState, conn: Connection, perms: readonly XsPerm[]): number {
  if (conn.privileged) return ALL_ACCESS;
  const target = state.domains.get(conn.domid)?.target;
  const names = (id: number) => id === conn.domid || (target !== undefined && id === target);
  if (names(perms[0]!.id)) return ALL_ACCESS;
  for (let i = 1; i < perms.length; i++) if (names(perms[i]!.id)) return permAccessBits(perms[i]!.perm);
  return permAccessBits(perms[0]!.perm);
}
