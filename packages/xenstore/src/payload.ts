// Request payloads read the way C xenstored reads them (core.c get_strings, onearg,
// xenstore_count_strings, parse_domid), and the reply payloads every handler shares.

import { binaryStrings, bytesToBinary } from "./bytes.js";
import { XsError } from "./errors.js";

/** "OK\0", the acknowledgement of most requests. */
export const OK_PAYLOAD = binaryStrings(["OK"]);

/** get_strings(): the complete nul-terminated strings (an unterminated tail is ignored). */
export function payloadStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(bytesToBinary(payload, start, i));
      start = i + 1;
    }
  }
  return out;
}

/** onearg(): the payload must hold exactly one nul, at its end. */
export function payloadOneArg(payload: Uint8Array): string | undefined {
  if (payload.length === 0 || payload.indexOf(0) !== payload.length - 1) return undefined;
  return bytesToBinary(payload, 0, payload.length - 1);
}

/** xenstore_count_strings(): the number of nuls. */
export function payloadNulCount(payload: Uint8Array): number {
  let count = 0;
  for (const b of payload) if (b === 0) count++;
  return count;
}

/** parse_domid(): strtoul base 10 that must use up the string, at most 65535. */
export function parseDomid(text: string): number {
  if (text === "") return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(text);
  if (!m) throw new XsError("EINVAL", "bad domid");
  const domid = Number(m[2]);
  if (domid > 65535 || (m[1] === "-" && domid !== 0)) throw new XsError("EINVAL", "bad domid");
  return domid;
}

/** One nul-terminated string as a reply payload. */
export function textReply(text: string): Uint8Array {
  return binaryStrings([text]);
}

/** Pads a column of a CONTROL report (printf "%-15s" or "%8s"). */
export function padColumn(text: string, width: number, left = false): string {
  return left ? text.padEnd(width) : text.padStart(width);
}
