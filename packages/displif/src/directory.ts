// The page directory of a display buffer (struct xendispl_page_directory): a chain of 4 KiB pages,
// each holding gref_dir_next_page (u32 @0; 0 ends the chain) and up to 1023 grefs (u32 @4 …). The
// number of grefs is not sent: it is ceil(buffer_sz / 4096) (ceil(buffer_sz / XEN_PAGE_SIZE) for
// GET_EDID too). Buffers need no contiguous memory: every page is granted on its own and listed here.
//
// Frontend allocation: the frontend grants the buffer pages and fills the whole chain.
// Backend allocation (be-alloc + XENDISPL_DBUF_FLG_REQ_ALLOC): the frontend grants only the
// directory pages (with their next links); the backend allocates the buffer, grants its pages to the
// frontend and writes those grefs into the directory before it answers.

import {
  XEN_PAGE_SIZE,
  XENDISPL_GREFS_PER_DIRECTORY_PAGE,
  XENDISPL_PAGE_DIRECTORY_LAYOUT,
  XenErrno,
  xendisplBufferPages,
  xendisplDirectoryPages,
} from "@xensim/abi";
import type { MemView } from "@xensim/memory";

export { xendisplBufferPages as bufferPages, xendisplDirectoryPages as directoryPages };

/** What the directory code needs of a page (a MemView of one 4 KiB frame satisfies it). */
export type DirectoryPageMemory = Pick<MemView, "getU32" | "setU32"> & {
  /** Publishes written bytes to other host processes (MemView.markWritten); absent in unit tests. */
  markWritten?(off: number, len: number): void;
};

const NEXT = XENDISPL_PAGE_DIRECTORY_LAYOUT.gref_dir_next_page;
const GREF0 = XENDISPL_PAGE_DIRECTORY_LAYOUT.gref;
const PER_PAGE = XENDISPL_GREFS_PER_DIRECTORY_PAGE;

/**
 * Fills a directory chain: page i links to dirRefs[i+1] (0 for the last) and lists grefs
 * [i*1023, (i+1)*1023). With `grefs` undefined only the links are written and the gref slots are
 * zeroed (backend allocation: the backend writes them).
 */
export function fillDirectory(
  pages: readonly DirectoryPageMemory[],
  dirRefs: readonly number[],
  nrGrefs: number,
  grefs?: readonly number[],
): void {
  const need = xendisplDirectoryPages(nrGrefs);
  if (pages.length < need || dirRefs.length < need)
    throw new RangeError(`${nrGrefs} grefs need ${need} directory pages, got ${pages.length}`);
  if (grefs && grefs.length !== nrGrefs) throw new RangeError(`${grefs.length} grefs, expected ${nrGrefs}`);
  for (let p = 0; p < need; p++) {
    const page = pages[p]!;
    page.setU32(NEXT, p + 1 < need ? dirRefs[p + 1]! : 0);
    for (let i = 0; i < PER_PAGE; i++) {
      const k = p * PER_PAGE + i;
      page.setU32(GREF0 + i * 4, grefs && k < nrGrefs ? grefs[k]! : 0);
    }
    page.markWritten?.(0, DIRECTORY_PAGE_BYTES);
  }
}

/** Writes the buffer's grefs into an already linked chain (backend allocation). */
export function writeDirectoryGrefs(pages: readonly DirectoryPageMemory[], grefs: readonly number[]): void {
  const need = xendisplDirectoryPages(grefs.length);
  if (pages.length < need) throw new RangeError(`${grefs.length} grefs need ${need} directory pages`);
  for (let k = 0; k < grefs.length; k++)
    pages[Math.floor(k / PER_PAGE)]!.setU32(GREF0 + (k % PER_PAGE) * 4, grefs[k]!);
  for (let p = 0; p < need; p++) pages[p]!.markWritten?.(0, DIRECTORY_PAGE_BYTES);
}

/** Reads the grefs of one directory page (`count` of them) into `out` at `at`. */
export function readDirectoryPage(page: DirectoryPageMemory, count: number, out: number[]): { next: number } {
  for (let i = 0; i < count; i++) out.push(page.getU32(GREF0 + i * 4));
  return { next: page.getU32(NEXT) };
}

export type DirectoryWalkResult<P> =
  | {
      readonly status: 0;
      /** The buffer's grefs in page order (empty slots when `readGrefs` was false). */
      readonly grefs: number[];
      /** The chain's own grefs, first one first. */
      readonly dirRefs: number[];
      /** The mapped directory pages, in chain order (the caller unmaps them). */
      readonly pages: P[];
    }
  | {
      /** -XEN_EINVAL (bad chain), or the mapper's negative status. */
      readonly status: number;
      readonly reason: string;
      /** Pages mapped before the failure (the caller unmaps them). */
      readonly pages: P[];
    };

/**
 * Walks a directory chain from `firstRef`, mapping each page with `mapPage` (a GNTST_* or -errno number
 * on failure). Hostile input is refused with -XEN_EINVAL: a first ref of 0, a chain that loops
 * (a directory ref seen twice) or is shorter than `nrGrefs` needs, a chain longer than needed (a
 * non-zero next on the last needed page is ignored, as Linux's backend does not follow it), more
 * than `maxPages` directory pages.
 */
export async function walkDirectory<P extends DirectoryPageMemory>(opts: {
  readonly firstRef: number;
  readonly nrGrefs: number;
  readonly mapPage: (ref: number) => Promise<P | number>;
  /** false: only follow the links (backend allocation, before the grefs are written). */
  readonly readGrefs?: boolean;
  /** Refuse a buffer needing more directory pages than this (default 64: 262 MB). */
  readonly maxPages?: number;
}): Promise<DirectoryWalkResult<P>> {
  const pages: P[] = [];
  const need = xendisplDirectoryPages(opts.nrGrefs);
  const max = opts.maxPages ?? 64;
  if (opts.nrGrefs < 1) return { status: -XenErrno.EINVAL, reason: "empty buffer", pages };
  if (need > max) return { status: -XenErrno.EINVAL, reason: `${need} directory pages > ${max}`, pages };
  if (opts.firstRef === 0) return { status: -XenErrno.EINVAL, reason: "gref_directory is 0", pages };
  const grefs: number[] = [];
  const dirRefs: number[] = [];
  const seen = new Set<number>();
  let ref = opts.firstRef;
  for (let p = 0; p < need; p++) {
    if (ref === 0)
      return {
        status: -XenErrno.EINVAL,
        reason: `directory chain ends after ${p} pages, ${need} needed for ${opts.nrGrefs} grefs`,
        pages,
      };
    if (seen.has(ref))
      return { status: -XenErrno.EINVAL, reason: `directory chain loops at gref ${ref}`, pages };
    seen.add(ref);
    const page = await opts.mapPage(ref);
    if (typeof page === "number")
      return { status: page, reason: `mapping directory page ${p} (gref ${ref})`, pages };
    pages.push(page);
    dirRefs.push(ref);
    const count = Math.min(PER_PAGE, opts.nrGrefs - p * PER_PAGE);
    if (opts.readGrefs === false) ref = page.getU32(NEXT);
    else ref = readDirectoryPage(page, count, grefs).next;
  }
  return { status: 0, grefs, dirRefs, pages };
}

/** Bytes a buffer of `width`×`height` at `bpp` bits per pixel needs (lines not padded). */
export function minBufferBytes(width: number, height: number, bpp: number): number {
  return Math.ceil((width * bpp) / 8) * height;
}

/** The page size the directory counts in. */
export const DIRECTORY_PAGE_BYTES = XEN_PAGE_SIZE;
