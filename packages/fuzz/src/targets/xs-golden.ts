// The golden xenstore requests the xs targets start from: one of each request type a 4.17–4.20
// peer sends (the packets of packages/xenstore's wire tests), and a few a hostile guest would.

import { XS_GET_QUOTA, XS_SET_QUOTA, XsType } from "@xensim/abi";
import { encodeXsMessage, xsStrings } from "@xensim/xenstore";

function packet(type: number, reqId: number, txId: number, ...parts: (string | Uint8Array)[]): Uint8Array {
  return encodeXsMessage({ type, reqId, txId, payload: xsStrings(...parts) });
}

/** WRITE's value is raw: no trailing nul. */
function write(reqId: number, txId: number, path: string, value: string): Uint8Array {
  const payload = new TextEncoder().encode(`${path}\0${value}`);
  return encodeXsMessage({ type: XsType.WRITE, reqId, txId, payload });
}

export function xsGoldenRequests(): Uint8Array[] {
  return [
    packet(XsType.CONTROL, 1, 0, "print", "hello"),
    packet(XsType.CONTROL, 1, 0, "quota", "set", "nodes", "5"),
    packet(XsType.DIRECTORY, 2, 0, "/local/domain"),
    packet(XsType.READ, 3, 0, "/local/domain/0/name"),
    packet(XsType.READ, 3, 0, "name"),
    packet(XsType.GET_PERMS, 4, 0, "/local/domain/1"),
    packet(XsType.WATCH, 5, 0, "/local/domain/1/device", "tok"),
    packet(XsType.WATCH, 5, 0, "@releaseDomain", "rel", "1"),
    packet(XsType.UNWATCH, 6, 0, "/local/domain/1/device", "tok"),
    packet(XsType.TRANSACTION_START, 7, 0, ""),
    packet(XsType.TRANSACTION_END, 8, 1, "T"),
    packet(XsType.TRANSACTION_END, 8, 1, "F"),
    packet(XsType.INTRODUCE, 9, 0, "1", "1008", "3"),
    packet(XsType.RELEASE, 10, 0, "1"),
    packet(XsType.GET_DOMAIN_PATH, 11, 0, "1"),
    write(12, 0, "/local/domain/1/device/vbd/51712/state", "4"),
    write(12, 1, "data/k", "v".repeat(100)),
    packet(XsType.MKDIR, 13, 0, "/local/domain/1/data"),
    packet(XsType.RM, 14, 0, "/local/domain/1/data"),
    packet(XsType.SET_PERMS, 15, 0, "/local/domain/1/data", "n1", "r0"),
    packet(XsType.IS_DOMAIN_INTRODUCED, 17, 0, "1"),
    packet(XsType.RESUME, 18, 0, "1"),
    packet(XsType.SET_TARGET, 19, 0, "2", "1"),
    packet(XsType.RESET_WATCHES, 21, 0, ""),
    packet(XsType.DIRECTORY_PART, 22, 0, "/local/domain", "0"),
    packet(XS_GET_QUOTA, 25, 0, "1", "nodes"),
    packet(XS_SET_QUOTA, 26, 0, "1", "memory", "4096"),
  ];
}
