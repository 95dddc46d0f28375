// xs-ring: xenstored's side of a guest's xenstore ring page (XsRingServer) fed a hostile page and a
// hostile guest: the input's first 2080 bytes are the page as the guest left it (any indices,
// connection and error words), the rest a script of guest actions (write request bytes, set
// req_prod or rsp_cons to anything, consume, ask to reconnect) between server calls (poll with and
// without a message limit, replies and events sent, flush, the INTRODUCE reset).
// Invariants: nothing throws and nothing is accessed outside the page; the error word is NONE,
// RINGIDX or PROTO; a stopped ring yields no messages until a reset; decoded payloads are at most
// 4096 bytes; while running, the server never lets rsp_prod − rsp_cons pass 1024 nor req_cons pass
// what the guest produced.

import {
  XENSTORE_DOMAIN_INTERFACE as I,
  XENSTORE_ERROR_COMM,
  XENSTORE_ERROR_NONE,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_RING_SIZE,
  XsType,
} from "@xensim/abi";
import { encodeXsMessage, type XsRingPage, XsRingServer, xsStrings } from "@xensim/xenstore";
import type { FuzzTarget } from "../target.js";
import { xsGoldenRequests } from "./xs-golden.js";

const PAGE_IMAGE = 2080; // up to and including the error word

/** A 4 KiB page that refuses any access outside itself (a bug in the server, not the guest). */
class CheckedPage implements XsRingPage {
  readonly bytes = new Uint8Array(4096);
  private readonly dv = new DataView(this.bytes.buffer);
  private range(off: number, len: number): void {
    if (!Number.isInteger(off) || off < 0 || len < 0 || off + len > 4096)
      throw new RangeError(`page access [${off}, ${off + len}) outside the page`);
  }
  atomicLoad32(off: number): number {
    if (off % 4 !== 0) throw new RangeError(`misaligned atomic at ${off}`);
    this.range(off, 4);
    return this.dv.getUint32(off, true);
  }
  atomicStore32(off: number, v: number): void {
    if (off % 4 !== 0) throw new RangeError(`misaligned atomic at ${off}`);
    this.range(off, 4);
    this.dv.setUint32(off, v >>> 0, true);
  }
  read(off: number, len: number): Uint8Array {
    this.range(off, len);
    return this.bytes.slice(off, off + len);
  }
  write(off: number, b: Uint8Array): void {
    this.range(off, b.length);
    this.bytes.set(b, off);
  }
  u32(off: number): number {
    return this.dv.getUint32(off, true);
  }
  setU32(off: number, v: number): void {
    this.dv.setUint32(off, v >>> 0, true);
  }
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`invariant broken: ${what}`);
}

/** A clean page image with the golden requests queued in `req` (the seeds the mutator starts from). */
function seedPages(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  const requests = xsGoldenRequests();
  for (let i = 0; i < requests.length; i += 3) {
    const image = new Uint8Array(PAGE_IMAGE);
    const dv = new DataView(image.buffer);
    let prod = 0;
    for (const r of requests.slice(i, i + 3)) {
      if (prod + r.length > XENSTORE_RING_SIZE) break;
      image.set(r, I.req + prod);
      prod += r.length;
    }
    dv.setUint32(I.req_prod, prod, true);
    // Script: poll everything, let the guest consume, poll one at a time, write more, poll.
    const script = Uint8Array.of(
      0,
      6,
      1,
      1,
      3,
      40,
      ...requests[0]!.subarray(0, 40),
      0,
      10,
      3,
      8,
      0,
      5,
      0xff,
      0xff,
      0xff,
      0x7f,
      0,
    );
    const seed = new Uint8Array(PAGE_IMAGE + script.length);
    seed.set(image, 0);
    seed.set(script, PAGE_IMAGE);
    seeds.push(seed);
  }
  return seeds;
}

export const xsRingTarget: FuzzTarget = {
  name: "xs-ring",
  description: "xenstored's end of a guest's xenstore ring page (XsRingServer) against a hostile guest",
  corpusDir: "packages/xenstore/src/fuzz-corpus/xs-ring",
  maxLength: PAGE_IMAGE + 2048,
  seeds: seedPages,
  run(input: Uint8Array): void {
    const page = new CheckedPage();
    page.bytes.set(input.subarray(0, PAGE_IMAGE), 0);
    const server = new XsRingServer(page);
    let guestReqProd = page.u32(I.req_prod);
    let reqId = 1;
    const script = input.subarray(PAGE_IMAGE);
    let at = 0;
    const next = () => (at < script.length ? script[at++]! : 0);
    const nextU32 = () => next() | (next() << 8) | (next() << 16) | (next() << 24);
    let rspProdBefore = page.u32(I.rsp_prod);
    const beforeServerCall = () => {
      rspProdBefore = page.u32(I.rsp_prod);
    };
    const afterServerCall = (messages: readonly { payload: Uint8Array }[], stoppedBefore: boolean) => {
      const err = server.error;
      check(
        err === XENSTORE_ERROR_NONE ||
          err === XENSTORE_ERROR_COMM ||
          err === XENSTORE_ERROR_RINGIDX ||
          err === XENSTORE_ERROR_PROTO,
        `error ${err}`,
      );
      if (stoppedBefore) check(messages.length === 0, "a stopped ring yielded messages");
      for (const m of messages) check(m.payload.length <= XENSTORE_PAYLOAD_MAX, "payload over 4096 bytes");
      const rspProd = page.u32(I.rsp_prod);
      if (rspProd !== rspProdBefore && rspProd !== 0) {
        // The server wrote replies: never more than the guest left room for.
        check((rspProd - page.u32(I.rsp_cons)) >>> 0 <= XENSTORE_RING_SIZE, "server overfilled rsp");
      }
    };
    const reply = (m: { type: number; reqId: number; txId: number }) => {
      server.send({ type: m.type, reqId: m.reqId, txId: m.txId, payload: xsStrings("OK") });
    };
    for (let step = 0; step < 64 && at < script.length; step++) {
      const op = next() % 11;
      const stopped = server.error !== XENSTORE_ERROR_NONE;
      switch (op) {
        case 0:
        case 1:
        case 2: {
          beforeServerCall();
          const r = server.poll(op === 0 ? Infinity : op === 1 ? 1 : 0);
          const stillStopped = stopped && !r.reset;
          afterServerCall(r.messages, stillStopped);
          if (op === 2) check(r.messages.length === 0, "poll(0) returned a message");
          if (op === 1) check(r.messages.length <= 1, "poll(1) returned more than one message");
          if (r.reset) guestReqProd = 0;
          beforeServerCall();
          for (const m of r.messages) reply(m);
          afterServerCall([], false);
          break;
        }
        case 3: {
          // The guest writes n bytes of the script into req at its producer index.
          const n = next();
          const bytes = script.subarray(at, at + n);
          at += bytes.length;
          for (let i = 0; i < bytes.length; i++)
            page.bytes[I.req + ((guestReqProd + i) & (XENSTORE_RING_SIZE - 1))] = bytes[i]!;
          guestReqProd = (guestReqProd + bytes.length) >>> 0;
          page.setU32(I.req_prod, guestReqProd);
          break;
        }
        case 4:
          guestReqProd = nextU32() >>> 0;
          page.setU32(I.req_prod, guestReqProd);
          break;
        case 5:
          page.setU32(I.rsp_cons, nextU32());
          break;
        case 6:
          page.setU32(I.rsp_cons, page.u32(I.rsp_prod));
          break;
        case 7:
          page.setU32(I.connection, next() & 1);
          break;
        case 8:
          beforeServerCall();
          server.flush();
          afterServerCall([], stopped);
          break;
        case 9:
          server.reset();
          guestReqProd = 0;
          check(server.error === XENSTORE_ERROR_NONE, "reset left an error");
          break;
        case 10: {
          const len = Math.min(XENSTORE_PAYLOAD_MAX - 8, next() * 16);
          const event = {
            type: XsType.WATCH_EVENT,
            reqId: 0,
            txId: 0,
            payload: xsStrings("/e", "t".repeat(len)),
          };
          encodeXsMessage(event);
          beforeServerCall();
          server.send(event);
          afterServerCall([], stopped);
          break;
        }
      }
      reqId++;
    }
    void reqId;
  },
};
