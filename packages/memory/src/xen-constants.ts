import { XEN_PAGE_SIZE } from "@xensim/abi";

/** Bytes per frame (XEN_PAGE_SIZE). */
export const PAGE_SIZE = XEN_PAGE_SIZE;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;
