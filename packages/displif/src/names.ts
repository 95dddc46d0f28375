// displif packets as trace fields: the XENDISPL_OP_* name, bigints (cookies) as hex strings.
import {
  XENDISPL_OP_DBUF_CREATE,
  XENDISPL_OP_DBUF_DESTROY,
  XENDISPL_OP_FB_ATTACH,
  XENDISPL_OP_FB_DETACH,
  XENDISPL_OP_GET_EDID,
  XENDISPL_OP_PG_FLIP,
  XENDISPL_OP_SET_CONFIG,
} from "@xensim/abi";

const OP_NAMES = new Map<number, string>([
  [XENDISPL_OP_DBUF_CREATE, "dbuf_create"],
  [XENDISPL_OP_DBUF_DESTROY, "dbuf_destroy"],
  [XENDISPL_OP_FB_ATTACH, "fb_attach"],
  [XENDISPL_OP_FB_DETACH, "fb_detach"],
  [XENDISPL_OP_SET_CONFIG, "set_config"],
  [XENDISPL_OP_PG_FLIP, "pg_flip"],
  [XENDISPL_OP_GET_EDID, "get_edid"],
]);

/** "pg_flip", "set_config", … or "op<N>". */
export function displifOpName(op: number): string {
  return OP_NAMES.get(op) ?? `op${op}`;
}

/** A decoded request, response or event as flat trace fields (operation named, bigints in hex). */
export function displifTraceFields(packet: object): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(packet)) {
    if (k === "operation" && typeof v === "number") out.operation = displifOpName(v);
    else if (typeof v === "bigint") out[k] = `0x${v.toString(16)}`;
    else if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") out[k] = v;
  }
  return out;
}
