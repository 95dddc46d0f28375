// xen/errno.h: Xen's own errno values (hypercall returns are -XEN_Exxx; displif status too).
// They coincide with Linux's for the names listed here.

export const XenErrno = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  EROFS: 30,
  EMLINK: 31,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  EDEADLOCK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ENODATA: 61,
  ETIME: 62,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EILSEQ: 84,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
} as const);
export type XenErrnoName = keyof typeof XenErrno;

/** Hypervisor-internal values (only under __XEN__ in the header): never returned to a guest. */
export const XEN_EINTR = 4;
export const XEN_ERESTART = 85;

const errnoNames = new Map<number, XenErrnoName>();
for (const [k, v] of Object.entries(XenErrno)) if (!errnoNames.has(v)) errnoNames.set(v, k as XenErrnoName);
/** The first (canonical) name of a positive errno value, e.g. 11 → "EAGAIN". */
export function xenErrnoName(errno: number): XenErrnoName | undefined {
  return errnoNames.get(Math.abs(errno));
}
