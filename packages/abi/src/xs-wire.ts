// io/xs_wire.h: the xenstore wire protocol and the xenstore ring page.

/** xsd_sockmsg_type: message types on the xs wire. */
export const XsType = Object.freeze({
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  // 20 was XS_RESTRICT, removed: it is an invalid type now.
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
  /** Number of valid types in the headers this project targets (Xen 4.17–4.20). */
  TYPE_COUNT: 23,
  INVALID: 0xffff,
} as const);
export type XsType = (typeof XsType)[keyof typeof XsType];

/** XS_DEBUG is the old name of XS_CONTROL. */
export const XS_DEBUG = XsType.CONTROL;

const xsTypeNames = new Map<number, string>(Object.entries(XsType).map(([k, v]) => [v as number, k]));
/** The XS_* name of a message type, or undefined for an unknown number. */
export function xsTypeName(type: number): string | undefined {
  if (type === XsType.TYPE_COUNT) return undefined;
  return xsTypeNames.get(type);
}

/**
 * xsd_errors[]: the errno names xenstored sends as text in an XS_ERROR reply, in the table order
 * of the header. A reply with an errno not in this table is sent as "EINVAL" by C xenstored.
 */
export const XSD_ERRORS = Object.freeze([
  "EINVAL",
  "EACCES",
  "EEXIST",
  "EISDIR",
  "ENOENT",
  "ENOMEM",
  "ENOSPC",
  "EIO",
  "ENOTEMPTY",
  "ENOSYS",
  "EROFS",
  "EBUSY",
  "EAGAIN",
  "EISCONN",
  "E2BIG",
  "EPERM",
] as const);
export type XsdError = (typeof XSD_ERRORS)[number];
/** oxenstored's extra error string for quota hits; clients must tolerate it. */
export const XS_EQUOTA = "EQUOTA";
export type XsErrorName = XsdError | typeof XS_EQUOTA;

/** Linux errno values of the xsd_errors names (the numbers libxenstore hands to callers). */
export const XSD_ERRNO: Readonly<Record<XsdError, number>> = Object.freeze({
  EINVAL: 22,
  EACCES: 13,
  EEXIST: 17,
  EISDIR: 21,
  ENOENT: 2,
  ENOMEM: 12,
  ENOSPC: 28,
  EIO: 5,
  ENOTEMPTY: 39,
  ENOSYS: 38,
  EROFS: 30,
  EBUSY: 16,
  EAGAIN: 11,
  EISCONN: 106,
  E2BIG: 7,
  EPERM: 1,
});

/** xs_watch_type: field order in a WATCH_EVENT payload. */
export const XS_WATCH_PATH = 0;
export const XS_WATCH_TOKEN = 1;

/** struct xsd_sockmsg: 16-byte header, little-endian u32 fields. */
export const XSD_SOCKMSG = Object.freeze({
  size: 16,
  type: 0,
  req_id: 4,
  tx_id: 8,
  len: 12,
} as const);

export const XENSTORE_PAYLOAD_MAX = 4096;
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

/** Ring page: struct xenstore_domain_interface. */
export const XENSTORE_RING_SIZE = 1024;
export const XENSTORE_DOMAIN_INTERFACE = Object.freeze({
  req: 0,
  rsp: 1024,
  req_cons: 2048,
  req_prod: 2052,
  rsp_cons: 2056,
  rsp_prod: 2060,
  server_features: 2064,
  connection: 2068,
  error: 2072,
  /** sizeof in the 4.17 headers; newer headers add evtchn_port at 2076. */
  size: 2076,
} as const);
export function maskXenstoreIdx(idx: number): number {
  return idx & (XENSTORE_RING_SIZE - 1);
}

export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

/** Write flags of the old XS_WRITE variants (kept as strings in the header). */
export const XS_WRITE_NONE = "NONE";
export const XS_WRITE_CREATE = "CREATE";
export const XS_WRITE_CREATE_EXCL = "CREATE|EXCL";

// ---- Additions after Xen 4.17 (not in Debian's headers, so not checked) ----

/** *(new, Xen 4.21)* message types beyond XsType.TYPE_COUNT of the 4.17 headers. */
export const XS_GET_FEATURE = 23;
export const XS_SET_FEATURE = 24;
export const XS_GET_QUOTA = 25;
export const XS_SET_QUOTA = 26;
/** *(new)* server_features bits. */
export const XENSTORE_SERVER_FEATURE_WATCHDEPTH = 4;
export const XENSTORE_SERVER_FEATURE_DOMID_ANY = 8;
/** *(new, 2025)* `evtchn_port` field of the ring page, used only if non-zero. */
export const XENSTORE_DOMAIN_INTERFACE_EVTCHN_PORT = 2076;
