// The page-directory chain: fill and walk for 1, 1023, 1024 and 2,000+ grefs (several directory
// pages), and hostile chains: a zero first ref, a loop, a chain shorter than buffer_sz needs, a
// page that does not map.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GNTST_bad_gntref, XENDISPL_GREFS_PER_DIRECTORY_PAGE, XenErrno } from "@xensim/abi";
import {
  bufferPages,
  directoryPages,
  fillDirectory,
  walkDirectory,
  writeDirectoryGrefs,
} from "./directory.js";

/** Pages keyed by gref: a pure stand-in for granted memory (unit test of the pure core). */
function grantSpace() {
  const pages = new Map<number, DataView>();
  return {
    page(ref: number) {
      const v = new DataView(new ArrayBuffer(4096));
      pages.set(ref, v);
      return {
        getU32: (o: number) => v.getUint32(o, true),
        setU32: (o: number, x: number) => v.setUint32(o, x, true),
      };
    },
    map: async (ref: number) => {
      const v = pages.get(ref);
      if (!v) return GNTST_bad_gntref;
      return {
        getU32: (o: number) => v.getUint32(o, true),
        setU32: (o: number, x: number) => v.setUint32(o, x, true),
      };
    },
  };
}

describe("directory chain", () => {
  for (const nrPages of [1, 1023, 1024, 2025, 3000]) {
    test(`${nrPages} buffer pages: ${directoryPages(nrPages)} directory page(s), walked back in order`, async () => {
      const g = grantSpace();
      const nDir = directoryPages(nrPages);
      assert.equal(nDir, Math.ceil(nrPages / XENDISPL_GREFS_PER_DIRECTORY_PAGE));
      const dirRefs = Array.from({ length: nDir }, (_, i) => 5000 + i * 7);
      const pages = dirRefs.map((r) => g.page(r));
      const grefs = Array.from({ length: nrPages }, (_, i) => 100_000 + i * 3);
      fillDirectory(pages, dirRefs, nrPages, grefs);
      const r = await walkDirectory({
        firstRef: dirRefs[0]!,
        nrGrefs: bufferPages(nrPages * 4096 - 1),
        mapPage: g.map,
      });
      assert.ok("grefs" in r, "walked");
      assert.deepEqual(r.grefs, grefs);
      assert.deepEqual(r.dirRefs, dirRefs);
      // The last page's next is 0.
      assert.equal(pages[nDir - 1]!.getU32(0), 0);
    });
  }
  test("backend allocation: links only, then the backend writes the grefs", async () => {
    const g = grantSpace();
    const dirRefs = [11, 12, 13];
    const pages = dirRefs.map((r) => g.page(r));
    fillDirectory(pages, dirRefs, 2100);
    const links = await walkDirectory({ firstRef: 11, nrGrefs: 2100, mapPage: g.map, readGrefs: false });
    assert.equal(links.status, 0);
    const grefs = Array.from({ length: 2100 }, (_, i) => i + 1);
    writeDirectoryGrefs(links.pages, grefs);
    const back = await walkDirectory({ firstRef: 11, nrGrefs: 2100, mapPage: g.map });
    assert.ok("grefs" in back);
    assert.deepEqual(back.grefs, grefs);
  });
  test("hostile chains get -XEN_EINVAL or the map status", async () => {
    const g = grantSpace();
    const a = g.page(21);
    const b = g.page(22);
    // A loop: 21 → 22 → 21.
    a.setU32(0, 22);
    b.setU32(0, 21);
    let r = await walkDirectory({ firstRef: 21, nrGrefs: 4000, mapPage: g.map });
    assert.equal(r.status, -XenErrno.EINVAL);
    assert.match((r as { reason: string }).reason, /loops/);
    assert.equal(r.pages.length, 2, "mapped pages are handed back for unmapping");
    // Shorter than needed: 22 ends the chain after 2 pages, 3 needed.
    b.setU32(0, 0);
    r = await walkDirectory({ firstRef: 21, nrGrefs: 2047, mapPage: g.map });
    assert.equal(r.status, -XenErrno.EINVAL);
    assert.match((r as { reason: string }).reason, /ends after 2 pages, 3 needed/);
    // Zero first ref, empty buffer, too large.
    assert.equal((await walkDirectory({ firstRef: 0, nrGrefs: 1, mapPage: g.map })).status, -XenErrno.EINVAL);
    assert.equal(
      (await walkDirectory({ firstRef: 21, nrGrefs: 0, mapPage: g.map })).status,
      -XenErrno.EINVAL,
    );
    assert.equal(
      (await walkDirectory({ firstRef: 21, nrGrefs: 1023 * 65, mapPage: g.map })).status,
      -XenErrno.EINVAL,
    );
    // Next points at a ref nobody granted: the map status comes back.
    b.setU32(0, 999);
    r = await walkDirectory({ firstRef: 21, nrGrefs: 2047, mapPage: g.map });
    assert.equal(r.status, GNTST_bad_gntref);
  });
});
