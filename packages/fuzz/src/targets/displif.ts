// displif: what a display backend and frontend read from the other side — a request slot, a
// response slot, the event page (a backend that runs in_prod ahead or rewrites in_cons), one page of
// a buffer's directory, and the xenstore values of the vdispl directories (resolution, versions,
// be-alloc, ring refs, event channels).
import {
  XENDISPL_EVENT_PAGE_LAYOUT,
  XENDISPL_GREFS_PER_DIRECTORY_PAGE,
  XENDISPL_IN_RING_LEN,
  XENDISPL_OP_DBUF_CREATE,
  XENDISPL_OP_PG_FLIP,
  XENDISPL_OP_SET_CONFIG,
  XENDISPL_EVT_PG_FLIP,
  XENDISPL_DBUF_FLG_REQ_ALLOC,
  xendisplInRingOffset,
} from "@xensim/abi";
import {
  decodeEvent,
  decodeRequest,
  decodeResponse,
  DisplifKeyError,
  encodeEvent,
  encodeRequest,
  encodeResponse,
  EventPageConsumer,
  isUnknownRequest,
  parseBeAlloc,
  parseVersions,
  readChannels,
  readConnectors,
  readDirectoryPage,
} from "@xensim/displif";
import type { FuzzTarget } from "../target.js";
import { must } from "../invariant.js";

const PACKET = 64;
const PAGE = 4096;
/** Input: [0,64) request slot, [64,128) response slot, [128,136) in_cons/in_prod, [136,200) event
 *  slot bytes, [200,202) directory count, then xenstore values as NUL-separated text. */
const KEYS_AT = 202;

/** One 4 KiB page as plain bytes (the pure cores read it through this shape). */
function bytesPage() {
  const u8 = new Uint8Array(PAGE);
  const dv = new DataView(u8.buffer);
  return {
    u8,
    getU32: (o: number) => dv.getUint32(o, true),
    setU32: (o: number, x: number) => dv.setUint32(o, x >>> 0, true),
    atomicLoad32: (o: number) => dv.getUint32(o, true),
    atomicStore32: (o: number, x: number) => dv.setUint32(o, x >>> 0, true),
    writeFrom: (o: number, src: Uint8Array, so = 0, len = src.length - so) =>
      u8.set(src.subarray(so, so + len), o),
    readInto: (o: number, dst: Uint8Array, d = 0, len = dst.length - d) =>
      dst.set(u8.subarray(o, o + len), d),
  };
}
const eventPage = bytesPage();
const dirPage = bytesPage();
const slot = new Uint8Array(PACKET);
const again = new Uint8Array(PACKET);
const text = new TextDecoder();

/** A value the backend reads from the frontend's directory may fail only as a DisplifKeyError. */
function keyRead(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    must(e instanceof DisplifKeyError, `a bad xenstore value fails as DisplifKeyError, not ${String(e)}`);
    must((e as DisplifKeyError).errno > 0, "a DisplifKeyError carries an errno");
  }
}

function run(input: Uint8Array): void {
  // 1. the request slot, decoded from a private copy as the backend does
  slot.fill(0);
  slot.set(input.subarray(0, PACKET));
  const req = decodeRequest(slot);
  must(req.id === (slot[0]! | (slot[1]! << 8)), "the id is the slot's first u16");
  if (!isUnknownRequest(req)) {
    // every field the protocol defines survives a re-encode; reserved bytes do not matter
    encodeRequest(req, again);
    must(
      JSON.stringify(decodeRequest(again), big) === JSON.stringify(req, big),
      "request re-encodes to itself",
    );
  }
  // 2. the response slot, as the frontend reads it
  slot.fill(0);
  slot.set(input.subarray(PACKET, 2 * PACKET));
  const rsp = decodeResponse(slot);
  encodeResponse(rsp, again);
  must(JSON.stringify(decodeResponse(again)) === JSON.stringify(rsp), "response re-encodes to itself");
  // 3. the event page: whatever in_cons/in_prod the backend left, the frontend hands out at most 63
  //    events, each the slot of its counter, and ends with in_cons = in_prod
  const iv = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const cons = input.length >= 136 ? iv.getUint32(128, true) : 0;
  const prod = input.length >= 136 ? iv.getUint32(132, true) : 0;
  eventPage.u8.fill(0);
  eventPage.atomicStore32(XENDISPL_EVENT_PAGE_LAYOUT.in_cons, cons);
  eventPage.atomicStore32(XENDISPL_EVENT_PAGE_LAYOUT.in_prod, prod);
  const evBytes = input.subarray(136, 200);
  for (let i = 0; i < XENDISPL_IN_RING_LEN; i++) {
    eventPage.u8.set(evBytes, xendisplInRingOffset(i));
    eventPage.u8[xendisplInRingOffset(i)] = i; // each slot names itself in its id's low byte
  }
  let handed = 0;
  const res = new EventPageConsumer(eventPage).consume((ev, counter) => {
    must(ev[0] === (counter >>> 0) % XENDISPL_IN_RING_LEN, "an event is read from its counter's slot");
    decodeEvent(ev);
    handed++;
  });
  const pending = (prod - cons) >>> 0;
  must(
    handed === res.consumed && handed === Math.min(pending, XENDISPL_IN_RING_LEN),
    "63 at most, all pending",
  );
  must(res.overrun === pending - handed, "what was skipped is counted as overrun");
  must(eventPage.atomicLoad32(XENDISPL_EVENT_PAGE_LAYOUT.in_cons) === prod, "in_cons ends at in_prod");
  // 4. one directory page: count grefs and the next link, never beyond the page
  const count =
    input.length >= KEYS_AT ? iv.getUint16(200, true) % (XENDISPL_GREFS_PER_DIRECTORY_PAGE + 1) : 0;
  dirPage.u8.fill(0);
  dirPage.u8.set(input.subarray(0, Math.min(input.length, PAGE)));
  const grefs: number[] = [];
  readDirectoryPage(dirPage, count, grefs);
  must(grefs.length === count, "a directory page yields exactly the grefs asked for");
  // 5. the frontend's xenstore values, as the backend parses them
  const values = text.decode(input.subarray(KEYS_AT)).split("\0");
  const v = (i: number): string | undefined => (values[i] === "-" ? undefined : values[i]);
  keyRead(() => {
    const connectors = readConnectors({
      "0/resolution": v(0),
      "0/unique-id": v(1),
      "1/resolution": v(2),
      "2/resolution": v(3),
    });
    must(connectors.length >= 1 && connectors.length <= 3, "connectors are contiguous from 0");
    for (const c of connectors)
      must(
        c.width >= 1 && c.height >= 1 && c.width <= 16384 && c.height <= 16384,
        "a resolution is in range",
      );
    const channels = readChannels(
      {
        "0/req-ring-ref": v(4),
        "0/req-event-channel": v(5),
        "0/evt-ring-ref": v(6),
        "0/evt-event-channel": v(7),
      },
      1,
    );
    for (const k of Object.values(channels[0]!))
      must(Number.isInteger(k) && k >= 0 && k <= 0xffff_ffff, "a ring ref / port is a u32");
  });
  keyRead(() => {
    for (const ver of parseVersions(v(8))) must(Number.isInteger(ver) && ver >= 0, "a version is a number");
  });
  keyRead(() => void parseBeAlloc(v(9)));
}

/** JSON.stringify replacer that keeps bigints (the cookies). */
function big(_k: string, x: unknown): unknown {
  return typeof x === "bigint" ? `${x}n` : x;
}

function seed(req: Parameters<typeof encodeRequest>[0], keys: string[], cons = 0, prod = 0): Uint8Array {
  const k = new TextEncoder().encode(keys.join("\0"));
  const b = new Uint8Array(KEYS_AT + k.length);
  encodeRequest(req, b.subarray(0, PACKET));
  encodeResponse({ id: req.id, operation: req.operation, status: 0 }, b.subarray(PACKET, 2 * PACKET));
  const dv = new DataView(b.buffer);
  dv.setUint32(128, cons, true);
  dv.setUint32(132, prod, true);
  encodeEvent({ id: req.id, type: XENDISPL_EVT_PG_FLIP, fbCookie: 7n }, b.subarray(136, 200));
  dv.setUint16(200, 3, true);
  b.set(k, KEYS_AT);
  return b;
}

export const displifTarget: FuzzTarget = {
  name: "displif",
  description:
    "displif request/response slots, the event page's indices, a directory page and the vdispl xenstore values",
  corpusDir: "packages/displif/src/fuzz-corpus/displif",
  maxLength: KEYS_AT + 256,
  seeds() {
    const keys = ["640x480", "screen0", "1920x1080", "-", "8", "9", "10", "11", "1,2", "1"];
    return [
      seed(
        {
          operation: XENDISPL_OP_DBUF_CREATE,
          id: 1,
          dbufCookie: 0x1234n,
          width: 640,
          height: 480,
          bpp: 32,
          bufferSz: 640 * 480 * 4,
          flags: XENDISPL_DBUF_FLG_REQ_ALLOC,
          grefDirectory: 12,
          dataOfs: 0,
        },
        keys,
      ),
      seed(
        {
          operation: XENDISPL_OP_SET_CONFIG,
          id: 2,
          fbCookie: 9n,
          x: 0,
          y: 0,
          width: 640,
          height: 480,
          bpp: 32,
        },
        keys,
        2 ** 32 - 3,
        5,
      ),
      seed(
        { operation: XENDISPL_OP_PG_FLIP, id: 3, fbCookie: 9n },
        ["1x1", "-", "-", "-", "1", "2", "3", "4", "2", "0"],
        0,
        200,
      ),
    ];
  },
  run,
};
