// io/protocols.h: the ABI names a frontend writes into its `protocol` xenstore key.

import type { XenAbi } from "./layout.js";

export const XEN_IO_PROTO_ABI_X86_32 = "x86_32-abi";
export const XEN_IO_PROTO_ABI_X86_64 = "x86_64-abi";
export const XEN_IO_PROTO_ABI_ARM = "arm-abi";

/**
 * The x86 ABI a `protocol` string selects, or undefined for anything else (arm-abi has the
 * x86_64 layouts but is not an x86 ABI; callers decide). A missing key is the caller's business:
 * Linux blkback on x86 then assumes x86_32-abi.
 */
export function abiOfProtocol(protocol: string): XenAbi | undefined {
  if (protocol === XEN_IO_PROTO_ABI_X86_64) return "x86_64";
  if (protocol === XEN_IO_PROTO_ABI_X86_32) return "x86_32";
  return undefined;
}

export function protocolOfAbi(abi: XenAbi): string {
  return abi === "x86_64" ? XEN_IO_PROTO_ABI_X86_64 : XEN_IO_PROTO_ABI_X86_32;
}
