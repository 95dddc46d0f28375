// Response checks and the lifecycle predicates, as pure functions: every id outside the shadow
// table, every id not in flight and every wrong operation is refused with a reason; only a
// response naming an in-flight request with its operation is taken (property, seed printed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp, XenErrno } from "@xensim/abi";
import fc from "fast-check";
import { PendingIo, type Piece } from "./io.js";
import { acceptsIo, BlkfrontLifecycle, issuesIo, survivesDisconnect } from "./lifecycle.js";
import { dropUnsupported, matchResponse, responseErrno } from "./responses.js";
import type { Shadow } from "./shadow.js";

const OPS = [BlkifOp.READ, BlkifOp.WRITE, BlkifOp.FLUSH_DISKCACHE, BlkifOp.WRITE_BARRIER, BlkifOp.DISCARD];

function shadowOf(rspOp: number): Shadow {
  const parent = new PendingIo({ op: "read", sector: 0, nrSectors: 0, segs: [] }, () => {});
  const piece: Piece = { parent, op: "read", sector: 0, nrSectors: 0, byteOff: 0, seq: 0 };
  return { piece, pages: [], nData: 0, rspOp };
}

describe("response checks", () => {
  it("takes exactly the responses that name an in-flight request with its operation", () => {
    const seed = Date.now() >>> 0;
    console.log(`responses property seed ${seed}`);
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.constantFrom(...OPS), { nil: undefined }), { minLength: 1, maxLength: 64 }),
        fc.nat({ max: 200 }),
        fc.nat({ max: 2 }),
        fc.constantFrom(...OPS),
        (ops, id, idHi, operation) => {
          const table = ops.map((op) => (op === undefined ? undefined : shadowOf(op)));
          const got = matchResponse({ idLo: id, idHi, operation, status: 0 }, table, 7);
          const expected = idHi === 0 && id < table.length ? table[id] : undefined;
          if (expected && expected.rspOp === operation) assert.equal(got, expected);
          else {
            assert.equal(typeof got, "string");
            assert.match(got as string, /^response 7 /);
          }
        },
      ),
      { seed },
    );
  });

  it("names what is wrong", () => {
    const table = [shadowOf(BlkifOp.READ), undefined];
    assert.match(
      matchResponse({ idLo: 5, idHi: 0, operation: 0, status: 0 }, table, 1) as string,
      /unknown id 5/,
    );
    assert.match(
      matchResponse({ idLo: 0, idHi: 1, operation: 0, status: 0 }, table, 1) as string,
      /unknown id 4294967296/,
    );
    assert.match(
      matchResponse({ idLo: 1, idHi: 0, operation: 0, status: 0 }, table, 1) as string,
      /duplicate/,
    );
    assert.match(
      matchResponse({ idLo: 0, idHi: 0, operation: BlkifOp.WRITE, status: 0 }, table, 1) as string,
      /has operation 1, request had 0/,
    );
  });

  it("maps statuses to errnos and turns off what the backend cannot do", () => {
    assert.equal(responseErrno(BLKIF_RSP_OKAY), 0);
    assert.equal(responseErrno(BLKIF_RSP_EOPNOTSUPP), -XenErrno.EOPNOTSUPP);
    assert.equal(responseErrno(BLKIF_RSP_ERROR), -XenErrno.EIO);
    assert.equal(responseErrno(7), -XenErrno.EIO);
    const f = { flush: true, barrier: true, discard: true };
    dropUnsupported(f, BlkifOp.READ);
    assert.deepEqual(f, { flush: true, barrier: true, discard: true });
    dropUnsupported(f, BlkifOp.FLUSH_DISKCACHE);
    dropUnsupported(f, BlkifOp.DISCARD);
    assert.deepEqual(f, { flush: false, barrier: true, discard: false });
    dropUnsupported(f, BlkifOp.WRITE_BARRIER);
    assert.deepEqual(f, { flush: false, barrier: false, discard: false });
  });
});

describe("lifecycle", () => {
  it("says which states accept, issue and survive a disconnect", () => {
    const L = BlkfrontLifecycle;
    const table: [BlkfrontLifecycle, boolean, boolean, boolean][] = [
      [L.Connecting, true, false, true],
      [L.Connected, true, true, true],
      [L.Draining, false, true, false],
      [L.Closing, false, false, false],
      [L.Failed, false, false, false],
      [L.Closed, false, false, false],
    ];
    for (const [life, accepts, issues, survives] of table) {
      assert.equal(acceptsIo(life), accepts, `${life} accepts`);
      assert.equal(issuesIo(life), issues, `${life} issues`);
      assert.equal(survivesDisconnect(life), survives, `${life} survives a disconnect`);
    }
  });
});
