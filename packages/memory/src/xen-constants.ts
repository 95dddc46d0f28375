// TODO: move to @xensim/abi (xen.h constants this package needs; abi is being extended concurrently).

/** Bytes per frame (x86 PAGE_SIZE). */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;

/** xen.h: domids at or above this are special. */
export const DOMID_FIRST_RESERVED = 0x7ff0;
/** xen.h: "the calling domain". */
export const DOMID_SELF = 0x7ff0;
/** xen.h: I/O memory owner. */
export const DOMID_IO = 0x7ff1;
/** xen.h: Xen itself; here the owner of every metadata frame. */
export const DOMID_XEN = 0x7ff2;
/** xen.h: copy-on-write pages. */
export const DOMID_COW = 0x7ff3;
/** xen.h: no domain. */
export const DOMID_INVALID = 0x7ff4;
/** xen.h: the idle domain. */
export const DOMID_IDLE = 0x7fff;
