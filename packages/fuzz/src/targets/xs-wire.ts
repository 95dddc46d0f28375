// xs-wire: the socket framing (XsDecoder, bytes split anywhere) and the payload parsing of every
// request type (XenstoreEngine.request), for dom0 and for an unprivileged guest with a home.
// Invariants: nothing throws (an engine exception is reported through onInternalError and counts
// as a crash), decoded payloads are at most 4096 bytes and re-encode to the bytes they came from,
// every reply and event can be encoded (≤ 4096 bytes), and the store stays consistent.

import { XENSTORE_PAYLOAD_MAX, XsType } from "@xensim/abi";
import { encodeXsMessage, XenstoreEngine, XsDecoder, xsStrings } from "@xensim/xenstore";
import type { FuzzTarget } from "../target.js";
import { xsGoldenRequests } from "./xs-golden.js";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`invariant broken: ${what}`);
}

export const xsWireTarget: FuzzTarget = {
  name: "xs-wire",
  description: "xs wire framing (XsDecoder) and request parsing (XenstoreEngine) for dom0 and a guest",
  corpusDir: "packages/xenstore/src/fuzz-corpus/xs-wire",
  maxLength: 3 * 4112,
  seeds: xsGoldenRequests,
  run(input: Uint8Array): void {
    const engine = new XenstoreEngine({
      quotas: { nodes: 40, transactionNodes: 40, watches: 8, transactions: 4, memory: 64 * 1024 },
      onInternalError: (err) => {
        throw err;
      },
    });
    const dom0 = engine.connect({ domid: 0 });
    const guest = engine.connect({ domid: 1 });
    const setup = (type: number, ...parts: string[]) =>
      engine.request(dom0, { type, reqId: 0, txId: 0, payload: xsStrings(...parts) });
    setup(XsType.MKDIR, "/local/domain/1");
    setup(XsType.SET_PERMS, "/local/domain/1", "n1", "r0");
    setup(XsType.INTRODUCE, "1", "1008", "3");

    // The first byte chooses the chunking: the decoder must not care where the bytes are split.
    const step = input.length > 0 ? (input[0]! % 23) + 1 : 1;
    const decoder = new XsDecoder();
    let consumed = 0;
    let sent = 0;
    for (let off = 0; off < input.length; off += step) {
      const chunk = input.subarray(off, Math.min(input.length, off + step));
      const fed = decoder.feed(chunk);
      consumed += fed.consumed;
      for (const msg of fed.messages) {
        check(msg.payload.length <= XENSTORE_PAYLOAD_MAX, "decoded payload over 4096 bytes");
        const bytes = encodeXsMessage(msg);
        check(sameBytes(bytes, input.subarray(sent, sent + bytes.length)), "re-encoded message differs");
        sent += bytes.length;
        // Odd request ids come from the guest, even ones from dom0.
        const out = engine.request(msg.reqId & 1 ? guest : dom0, msg);
        check(out.reply !== null, "engine dropped a connection for a valid frame");
        encodeXsMessage(out.reply!);
        check(out.reply!.reqId === msg.reqId && out.reply!.txId === msg.txId, "reply does not echo ids");
        for (const ev of out.events) encodeXsMessage(ev.msg);
      }
      if (fed.error) {
        check((fed.error.len ?? 0) > XENSTORE_PAYLOAD_MAX, "protocol error for a valid length");
        break;
      }
    }
    check(consumed <= input.length, "decoder consumed more than it was given");
    const problems = engine.checkStore();
    check(problems.length === 0, `store inconsistent: ${problems[0]}`);
  },
};
