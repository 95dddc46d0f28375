// The header check specification: every constant and layout of this package paired with the C expression
// that yields it from Xen's own headers. Pure data; the gcc runner lives in ../testing/gcc.ts.

import * as abi from "../index.js";
import type { BitField, XenAbi } from "../layout.js";

const BOTH: readonly XenAbi[] = ["x86_64", "x86_32"];
/** The package's exports by name (the spec pairs export names with C macro names). */
const EXPORTS: Readonly<Record<string, unknown>> = abi;
function stringExport(name: string): string {
  const v = EXPORTS[name];
  if (typeof v !== "string") throw new Error(`spec: ${name} is not a string export`);
  return v;
}
const X64: readonly XenAbi[] = ["x86_64"];

/** A number the C compiler computes (sizeof, offsetof, macro, enum, arithmetic on them). */
export interface NumCheck {
  readonly kind: "num";
  readonly path: string;
  readonly header: string;
  readonly expr: string;
  readonly expected: bigint;
  readonly abis: readonly XenAbi[];
}
/** A string (macro, table entry); checked in the hosted x86_64 program only. */
export interface StrCheck {
  readonly kind: "str";
  readonly path: string;
  readonly header: string;
  readonly expr: string;
  readonly expected: string;
}
/** A bit field: C sets `member` of `ctype` to all ones; the header check reads which bits changed. */
export interface BitsCheck {
  readonly kind: "bits";
  readonly path: string;
  readonly header: string;
  readonly ctype: string;
  readonly member: string;
  readonly expected: BitField;
  readonly abis: readonly XenAbi[];
}
export type HeaderCheck = NumCheck | StrCheck | BitsCheck;

/** Exported values deliberately not compared with the 4.17 headers, with the reason. */
export const NOT_CHECKED: Readonly<Record<string, string>> = Object.freeze({
  XEN_ABIS: "project vocabulary, not a header value",
  XS_EQUOTA: "oxenstored extension, not in xs_wire.h",
  XS_GET_FEATURE: "(new, 4.21) not in the 4.17 headers",
  XS_SET_FEATURE: "(new) not in the 4.17 headers",
  XS_GET_QUOTA: "(new) not in the 4.17 headers",
  XS_SET_QUOTA: "(new) not in the 4.17 headers",
  XENSTORE_SERVER_FEATURE_WATCHDEPTH: "(new) not in the 4.17 headers",
  XENSTORE_SERVER_FEATURE_DOMID_ANY: "(new) not in the 4.17 headers",
  XENSTORE_DOMAIN_INTERFACE_EVTCHN_PORT: "(new, 2025) not in the 4.17 headers",
  XEN_PAGE_SIZE:
    "not a public-header macro (Linux's name); the 4096 is checked through every page-sized table",
  BLKIF_SECTOR_BYTES: "fixed by the blkif spec text, not a macro",
  BLKIF_MAX_SECT_PER_PAGE: "derived from the sector unit, not a macro",
  MAX_NR_IOREQ_SERVERS: "Xen-internal (xen/include/xen/ioreq.h), not a public header",
  MAX_VIRT_CPUS: "old name, absent from the 4.17 headers; equals XEN_LEGACY_MAX_VCPUS (checked)",
  XEN_EINTR: "defined only under __XEN__",
  XEN_ERESTART: "defined only under __XEN__",
  "IOREQ_LAYOUT.flags": "byte of the bit fields; the bits themselves are checked (IOREQ_BITS)",
  PER_VCPU_VIRQS: "classification from the header comments (V/G), not a value",
});

class Builder {
  readonly checks: HeaderCheck[] = [];

  num(path: string, header: string, expected: number | bigint, expr: string, abis = BOTH): void {
    this.checks.push({ kind: "num", path, header, expr, expected: BigInt(expected), abis });
  }
  str(path: string, header: string, expected: string, expr: string): void {
    this.checks.push({ kind: "str", path, header, expr, expected });
  }
  bits(path: string, header: string, expected: BitField, ctype: string, member: string): void {
    this.checks.push({ kind: "bits", path, header, ctype, member, expected, abis: BOTH });
  }
  /** Named constants: exported name = C macro name. */
  macros(header: string, names: readonly string[], abis = BOTH): void {
    for (const n of names) {
      const v = EXPORTS[n];
      if (typeof v !== "number" && typeof v !== "bigint")
        throw new Error(`spec: ${n} is not a numeric export`);
      this.num(n, header, v, n, abis);
    }
  }
  /** A frozen object of constants, C name derived from the key. */
  table(
    path: string,
    header: string,
    obj: Readonly<Record<string, number>>,
    cname: (k: string) => string,
    abis = BOTH,
  ): void {
    for (const [k, v] of Object.entries(obj)) this.num(`${path}.${k}`, header, v, cname(k), abis);
  }
  /** An ABI-independent layout: `size` → sizeof, other keys → offsetof. */
  layout(
    path: string,
    header: string,
    obj: Readonly<Record<string, number>>,
    ctype: string,
    member: (k: string) => string = (k) => k,
  ): void {
    for (const [k, v] of Object.entries(obj)) {
      if (NOT_CHECKED[`${path}.${k}`]) continue;
      const expr = k === "size" ? `sizeof(${ctype})` : `offsetof(${ctype}, ${member(k)})`;
      this.num(`${path}.${k}`, header, v, expr);
    }
  }
  /** A per-ABI layout. */
  abiLayout(
    path: string,
    header: string,
    obj: Readonly<Record<XenAbi, Readonly<Record<string, number>>>>,
    ctype: string,
    member: (k: string, a: XenAbi) => string = (k) => k,
  ): void {
    for (const a of BOTH) {
      for (const [k, v] of Object.entries(obj[a])) {
        const expr = k === "size" ? `sizeof(${ctype})` : `offsetof(${ctype}, ${member(k, a)})`;
        this.num(`${path}.${a}.${k}`, header, v, expr, [a]);
      }
    }
  }
  /** A per-ABI value given by one C expression. */
  abiValue(path: string, header: string, obj: Readonly<Record<XenAbi, number>>, expr: string): void {
    for (const a of BOTH) this.num(`${path}.${a}`, header, obj[a], expr, [a]);
  }
}

const dotted =
  (map: Readonly<Record<string, string>>) =>
  (k: string): string =>
    map[k] ?? k;

export function buildHeaderCheckSpec(): readonly HeaderCheck[] {
  const b = new Builder();

  // ---- io/xs_wire.h ----
  const XS = "io/xs_wire.h";
  b.table("XsType", XS, abi.XsType, (k) => `XS_${k}`);
  b.num("XS_DEBUG", XS, abi.XS_DEBUG, "XS_DEBUG");
  b.num("XS_WATCH_PATH", XS, abi.XS_WATCH_PATH, "XS_WATCH_PATH");
  b.num("XS_WATCH_TOKEN", XS, abi.XS_WATCH_TOKEN, "XS_WATCH_TOKEN");
  b.layout("XSD_SOCKMSG", XS, abi.XSD_SOCKMSG, "struct xsd_sockmsg");
  b.layout(
    "XENSTORE_DOMAIN_INTERFACE",
    XS,
    abi.XENSTORE_DOMAIN_INTERFACE,
    "struct xenstore_domain_interface",
  );
  b.macros(XS, [
    "XENSTORE_PAYLOAD_MAX",
    "XENSTORE_ABS_PATH_MAX",
    "XENSTORE_REL_PATH_MAX",
    "XENSTORE_RING_SIZE",
    "XENSTORE_SERVER_FEATURE_RECONNECTION",
    "XENSTORE_SERVER_FEATURE_ERROR",
    "XENSTORE_CONNECTED",
    "XENSTORE_RECONNECT",
    "XENSTORE_ERROR_NONE",
    "XENSTORE_ERROR_COMM",
    "XENSTORE_ERROR_RINGIDX",
    "XENSTORE_ERROR_PROTO",
  ]);
  for (const idx of [0, 1, 1023, 1024, 5000, 0xffffffff]) {
    b.num(`maskXenstoreIdx(${idx})`, XS, abi.maskXenstoreIdx(idx), `MASK_XENSTORE_IDX(${idx}u)`);
  }
  b.str("XS_WRITE_NONE", XS, abi.XS_WRITE_NONE, "XS_WRITE_NONE");
  b.str("XS_WRITE_CREATE", XS, abi.XS_WRITE_CREATE, "XS_WRITE_CREATE");
  b.str("XS_WRITE_CREATE_EXCL", XS, abi.XS_WRITE_CREATE_EXCL, "XS_WRITE_CREATE_EXCL");
  b.num("XSD_ERRORS.length", XS, abi.XSD_ERRORS.length, "sizeof(xsd_errors) / sizeof(xsd_errors[0])", X64);
  abi.XSD_ERRORS.forEach((name, i) => {
    b.str(`XSD_ERRORS[${i}]`, XS, name, `xsd_errors[${i}].errstring`);
  });
  // The errno numbers libxenstore reports are the host's (Linux) errno values.
  b.table("XSD_ERRNO", "<errno.h> (Linux host)", abi.XSD_ERRNO, (k) => k, X64);

  // ---- io/ring.h ----
  const RING = "io/ring.h";
  b.layout("SRING_LAYOUT", RING, abi.SRING_LAYOUT, "struct blkif_sring");
  b.num("SRING_HEADER_BYTES", RING, abi.SRING_HEADER_BYTES, "offsetof(struct xen_displif_sring, ring)");
  b.num("RING_IDX_BYTES", RING, abi.RING_IDX_BYTES, "sizeof(RING_IDX)");
  for (const v of [0, 1, 2, 3, 36, 63, 64, 65, 2340, 0x7fffffff, 0x80000000, 0xffffffff]) {
    b.num(`rd32(${v})`, RING, abi.rd32(v), `__RD32(${v}u)`);
  }
  for (const [total, entry] of [
    [4096, 1],
    [4096, 8],
    [4096, 33],
    [4096, 4032],
    [8192, 100],
    [64, 16],
  ] as const) {
    b.num(
      `ringSize(${total}, ${entry})`,
      RING,
      abi.ringSize(total, entry),
      `__RD32((${total}u - 64u) / ${entry}u)`,
    );
  }

  // ---- io/blkif.h ----
  const BLK = "io/blkif.h";
  b.table("BlkifOp", BLK, abi.BlkifOp, (k) => `BLKIF_OP_${k}`);
  b.table("BlkifRsp", BLK, abi.BlkifRsp, (k) => `BLKIF_RSP_${k}`);
  b.macros(BLK, [
    "BLKIF_RSP_EOPNOTSUPP",
    "BLKIF_RSP_ERROR",
    "BLKIF_RSP_OKAY",
    "BLKIF_MAX_SEGMENTS_PER_REQUEST",
    "BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST",
    "BLKIF_DISCARD_SECURE",
    "VDISK_CDROM",
    "VDISK_REMOVABLE",
    "VDISK_READONLY",
  ]);
  b.layout(
    "BLKIF_REQUEST_SEGMENT_LAYOUT",
    BLK,
    abi.BLKIF_REQUEST_SEGMENT_LAYOUT,
    "struct blkif_request_segment",
  );
  b.num(
    "BLKIF_SEGS_PER_INDIRECT_FRAME",
    BLK,
    abi.BLKIF_SEGS_PER_INDIRECT_FRAME,
    "4096 / sizeof(struct blkif_request_segment)",
  );
  b.abiLayout("BLKIF_REQUEST_LAYOUT", BLK, abi.BLKIF_REQUEST_LAYOUT, "struct blkif_request");
  b.abiLayout(
    "BLKIF_REQUEST_DISCARD_LAYOUT",
    BLK,
    abi.BLKIF_REQUEST_DISCARD_LAYOUT,
    "struct blkif_request_discard",
  );
  b.abiLayout(
    "BLKIF_REQUEST_INDIRECT_LAYOUT",
    BLK,
    abi.BLKIF_REQUEST_INDIRECT_LAYOUT,
    "struct blkif_request_indirect",
  );
  b.abiLayout("BLKIF_RESPONSE_LAYOUT", BLK, abi.BLKIF_RESPONSE_LAYOUT, "struct blkif_response");
  b.abiValue("BLKIF_RING_ENTRY_BYTES", BLK, abi.BLKIF_RING_ENTRY_BYTES, "sizeof(union blkif_sring_entry)");
  for (const a of BOTH) {
    for (let pages = 1; pages <= 64; pages++) {
      b.num(
        `blkifRingSize(${pages}, ${a})`,
        RING,
        abi.blkifRingSize(pages, a),
        `__CONST_RING_SIZE(blkif, ${pages * 4096})`,
        [a],
      );
    }
  }

  // ---- io/protocols.h ----
  const PROTO = "io/protocols.h";
  for (const n of ["XEN_IO_PROTO_ABI_X86_32", "XEN_IO_PROTO_ABI_X86_64", "XEN_IO_PROTO_ABI_ARM"] as const) {
    b.str(n, PROTO, stringExport(n), n);
  }

  // ---- io/xenbus.h ----
  b.table("XenbusState", "io/xenbus.h", abi.XenbusState, (k) => `XenbusState${k}`);

  // ---- grant_table.h ----
  const GT = "grant_table.h";
  b.layout("GRANT_ENTRY_V1_LAYOUT", GT, abi.GRANT_ENTRY_V1_LAYOUT, "struct grant_entry_v1");
  b.num("GRANT_ENTRIES_V1_PER_FRAME", GT, abi.GRANT_ENTRIES_V1_PER_FRAME, "4096 / sizeof(grant_entry_v1_t)");
  b.layout(
    "GRANT_ENTRY_V2_LAYOUT",
    GT,
    abi.GRANT_ENTRY_V2_LAYOUT,
    "union grant_entry_v2",
    dotted({
      hdr_flags: "hdr.flags",
      hdr_domid: "hdr.domid",
      full_page_frame: "full_page.frame",
      sub_page_page_off: "sub_page.page_off",
      sub_page_length: "sub_page.length",
      sub_page_frame: "sub_page.frame",
      transitive_trans_domid: "transitive.trans_domid",
      transitive_gref: "transitive.gref",
    }),
  );
  b.num("GRANT_ENTRIES_V2_PER_FRAME", GT, abi.GRANT_ENTRIES_V2_PER_FRAME, "4096 / sizeof(grant_entry_v2_t)");
  b.macros(GT, [
    "GNTTAB_NR_RESERVED_ENTRIES",
    "GNTTAB_RESERVED_CONSOLE",
    "GNTTAB_RESERVED_XENSTORE",
    "GTF_invalid",
    "GTF_permit_access",
    "GTF_accept_transfer",
    "GTF_transitive",
    "GTF_type_mask",
    "_GTF_readonly",
    "GTF_readonly",
    "_GTF_reading",
    "GTF_reading",
    "_GTF_writing",
    "GTF_writing",
    "_GTF_PWT",
    "GTF_PWT",
    "_GTF_PCD",
    "GTF_PCD",
    "_GTF_PAT",
    "GTF_PAT",
    "_GTF_sub_page",
    "GTF_sub_page",
    "_GTF_transfer_committed",
    "GTF_transfer_committed",
    "_GTF_transfer_completed",
    "GTF_transfer_completed",
    "GNTTABOP_map_grant_ref",
    "GNTTABOP_unmap_grant_ref",
    "GNTTABOP_setup_table",
    "GNTTABOP_dump_table",
    "GNTTABOP_transfer",
    "GNTTABOP_copy",
    "GNTTABOP_query_size",
    "GNTTABOP_unmap_and_replace",
    "GNTTABOP_set_version",
    "GNTTABOP_get_status_frames",
    "GNTTABOP_get_version",
    "GNTTABOP_swap_grant_ref",
    "GNTTABOP_cache_flush",
    "_GNTMAP_device_map",
    "GNTMAP_device_map",
    "_GNTMAP_host_map",
    "GNTMAP_host_map",
    "_GNTMAP_readonly",
    "GNTMAP_readonly",
    "_GNTMAP_application_map",
    "GNTMAP_application_map",
    "_GNTMAP_contains_pte",
    "GNTMAP_contains_pte",
    "_GNTMAP_guest_avail0",
    "GNTMAP_guest_avail_mask",
    "_GNTCOPY_source_gref",
    "GNTCOPY_source_gref",
    "_GNTCOPY_dest_gref",
    "GNTCOPY_dest_gref",
    "GNTTAB_CACHE_CLEAN",
    "GNTTAB_CACHE_INVAL",
    "GNTTAB_CACHE_SOURCE_GREF",
    "GNTST_okay",
    "GNTST_general_error",
    "GNTST_bad_domain",
    "GNTST_bad_gntref",
    "GNTST_bad_handle",
    "GNTST_bad_virt_addr",
    "GNTST_bad_dev_addr",
    "GNTST_no_device_space",
    "GNTST_permission_denied",
    "GNTST_bad_page",
    "GNTST_bad_copy_arg",
    "GNTST_address_too_big",
    "GNTST_eagain",
    "GNTST_no_space",
  ]);
  b.table("GntSt", GT, abi.GntSt, (k) => `GNTST_${k}`);
  b.num(
    "GNTTABOP_ERROR_MSGS.length",
    GT,
    abi.GNTTABOP_ERROR_MSGS.length,
    "sizeof(xensim_gnttab_msgs) / sizeof(xensim_gnttab_msgs[0])",
    X64,
  );
  abi.GNTTABOP_ERROR_MSGS.forEach((m, i) => {
    b.str(`GNTTABOP_ERROR_MSGS[${i}]`, GT, m, `xensim_gnttab_msgs[${i}]`);
  });
  b.layout("GNTTAB_MAP_GRANT_REF_LAYOUT", GT, abi.GNTTAB_MAP_GRANT_REF_LAYOUT, "struct gnttab_map_grant_ref");
  b.layout(
    "GNTTAB_UNMAP_GRANT_REF_LAYOUT",
    GT,
    abi.GNTTAB_UNMAP_GRANT_REF_LAYOUT,
    "struct gnttab_unmap_grant_ref",
  );
  b.abiLayout("GNTTAB_SETUP_TABLE_LAYOUT", GT, abi.GNTTAB_SETUP_TABLE_LAYOUT, "struct gnttab_setup_table");
  b.layout("GNTTAB_DUMP_TABLE_LAYOUT", GT, abi.GNTTAB_DUMP_TABLE_LAYOUT, "struct gnttab_dump_table");
  b.abiLayout("GNTTAB_TRANSFER_LAYOUT", GT, abi.GNTTAB_TRANSFER_LAYOUT, "struct gnttab_transfer");
  b.abiLayout("GNTTAB_COPY_LAYOUT", GT, abi.GNTTAB_COPY_LAYOUT, "struct gnttab_copy", (k) =>
    k.replace(/^(source|dest)_u_/, "$1.u.").replace(/^(source|dest)_/, "$1."),
  );
  b.layout("GNTTAB_QUERY_SIZE_LAYOUT", GT, abi.GNTTAB_QUERY_SIZE_LAYOUT, "struct gnttab_query_size");
  b.layout("GNTTAB_SET_VERSION_LAYOUT", GT, abi.GNTTAB_SET_VERSION_LAYOUT, "struct gnttab_set_version");
  b.layout("GNTTAB_GET_VERSION_LAYOUT", GT, abi.GNTTAB_GET_VERSION_LAYOUT, "struct gnttab_get_version");
  b.layout(
    "GNTTAB_SWAP_GRANT_REF_LAYOUT",
    GT,
    abi.GNTTAB_SWAP_GRANT_REF_LAYOUT,
    "struct gnttab_swap_grant_ref",
  );

  // ---- event_channel.h ----
  const EV = "event_channel.h";
  b.macros(EV, [
    "EVTCHNOP_bind_interdomain",
    "EVTCHNOP_bind_virq",
    "EVTCHNOP_bind_pirq",
    "EVTCHNOP_close",
    "EVTCHNOP_send",
    "EVTCHNOP_status",
    "EVTCHNOP_alloc_unbound",
    "EVTCHNOP_bind_ipi",
    "EVTCHNOP_bind_vcpu",
    "EVTCHNOP_unmask",
    "EVTCHNOP_reset",
    "EVTCHNOP_init_control",
    "EVTCHNOP_expand_array",
    "EVTCHNOP_set_priority",
    "EVTCHNSTAT_closed",
    "EVTCHNSTAT_unbound",
    "EVTCHNSTAT_interdomain",
    "EVTCHNSTAT_pirq",
    "EVTCHNSTAT_virq",
    "EVTCHNSTAT_ipi",
    "BIND_PIRQ__WILL_SHARE",
    "EVTCHN_FIFO_PRIORITY_MAX",
    "EVTCHN_FIFO_PRIORITY_DEFAULT",
    "EVTCHN_FIFO_PRIORITY_MIN",
    "EVTCHN_FIFO_MAX_QUEUES",
    "EVTCHN_FIFO_PENDING",
    "EVTCHN_FIFO_MASKED",
    "EVTCHN_FIFO_LINKED",
    "EVTCHN_FIFO_BUSY",
    "EVTCHN_FIFO_LINK_BITS",
    "EVTCHN_FIFO_LINK_MASK",
    "EVTCHN_FIFO_NR_CHANNELS",
  ]);
  b.table("EvtchnStat", EV, abi.EvtchnStat, (k) => `EVTCHNSTAT_${k}`);
  b.abiValue("EVTCHN_2L_NR_CHANNELS", EV, abi.EVTCHN_2L_NR_CHANNELS, "EVTCHN_2L_NR_CHANNELS");
  const evLayouts: [string, Readonly<Record<string, number>>, string][] = [
    ["EVTCHN_ALLOC_UNBOUND_LAYOUT", abi.EVTCHN_ALLOC_UNBOUND_LAYOUT, "struct evtchn_alloc_unbound"],
    ["EVTCHN_BIND_INTERDOMAIN_LAYOUT", abi.EVTCHN_BIND_INTERDOMAIN_LAYOUT, "struct evtchn_bind_interdomain"],
    ["EVTCHN_BIND_VIRQ_LAYOUT", abi.EVTCHN_BIND_VIRQ_LAYOUT, "struct evtchn_bind_virq"],
    ["EVTCHN_BIND_PIRQ_LAYOUT", abi.EVTCHN_BIND_PIRQ_LAYOUT, "struct evtchn_bind_pirq"],
    ["EVTCHN_BIND_IPI_LAYOUT", abi.EVTCHN_BIND_IPI_LAYOUT, "struct evtchn_bind_ipi"],
    ["EVTCHN_CLOSE_LAYOUT", abi.EVTCHN_CLOSE_LAYOUT, "struct evtchn_close"],
    ["EVTCHN_SEND_LAYOUT", abi.EVTCHN_SEND_LAYOUT, "struct evtchn_send"],
    ["EVTCHN_UNMASK_LAYOUT", abi.EVTCHN_UNMASK_LAYOUT, "struct evtchn_unmask"],
    ["EVTCHN_BIND_VCPU_LAYOUT", abi.EVTCHN_BIND_VCPU_LAYOUT, "struct evtchn_bind_vcpu"],
    ["EVTCHN_RESET_LAYOUT", abi.EVTCHN_RESET_LAYOUT, "struct evtchn_reset"],
    ["EVTCHN_SET_PRIORITY_LAYOUT", abi.EVTCHN_SET_PRIORITY_LAYOUT, "struct evtchn_set_priority"],
    ["EVTCHN_EXPAND_ARRAY_LAYOUT", abi.EVTCHN_EXPAND_ARRAY_LAYOUT, "struct evtchn_expand_array"],
    ["EVTCHN_INIT_CONTROL_LAYOUT", abi.EVTCHN_INIT_CONTROL_LAYOUT, "struct evtchn_init_control"],
    [
      "EVTCHN_FIFO_CONTROL_BLOCK_LAYOUT",
      abi.EVTCHN_FIFO_CONTROL_BLOCK_LAYOUT,
      "struct evtchn_fifo_control_block",
    ],
  ];
  for (const [p, l, t] of evLayouts) b.layout(p, EV, l, t);
  b.layout(
    "EVTCHN_STATUS_LAYOUT",
    EV,
    abi.EVTCHN_STATUS_LAYOUT,
    "struct evtchn_status",
    dotted({
      u_unbound_dom: "u.unbound.dom",
      u_interdomain_dom: "u.interdomain.dom",
      u_interdomain_port: "u.interdomain.port",
      u_pirq: "u.pirq",
      u_virq: "u.virq",
    }),
  );

  // ---- xen.h ----
  const XEN = "xen.h";
  b.macros(XEN, [
    "DOMID_FIRST_RESERVED",
    "DOMID_SELF",
    "DOMID_IO",
    "DOMID_XEN",
    "DOMID_COW",
    "DOMID_INVALID",
    "DOMID_IDLE",
    "DOMID_MASK",
    "VIRQ_TIMER",
    "VIRQ_DEBUG",
    "VIRQ_CONSOLE",
    "VIRQ_DOM_EXC",
    "VIRQ_TBUF",
    "VIRQ_DEBUGGER",
    "VIRQ_XENOPROF",
    "VIRQ_CON_RING",
    "VIRQ_PCPU_STATE",
    "VIRQ_MEM_EVENT",
    "VIRQ_ARGO",
    "VIRQ_ENOMEM",
    "VIRQ_XENPMU",
    "VIRQ_ARCH_0",
    "VIRQ_ARCH_1",
    "VIRQ_ARCH_2",
    "VIRQ_ARCH_3",
    "VIRQ_ARCH_4",
    "VIRQ_ARCH_5",
    "VIRQ_ARCH_6",
    "VIRQ_ARCH_7",
    "NR_VIRQS",
    "XEN_LEGACY_MAX_VCPUS",
  ]);
  b.abiValue("XEN_ULONG_BYTES", XEN, abi.XEN_ULONG_BYTES, "sizeof(xen_ulong_t)");
  b.layout("VCPU_TIME_INFO_LAYOUT", XEN, abi.VCPU_TIME_INFO_LAYOUT, "struct vcpu_time_info");
  b.abiLayout("VCPU_INFO_LAYOUT", XEN, abi.VCPU_INFO_LAYOUT, "struct vcpu_info");
  b.abiLayout("SHARED_INFO_LAYOUT", XEN, abi.SHARED_INFO_LAYOUT, "struct shared_info", (k, a) =>
    k === "wc_sec_hi" && a === "x86_32" ? "arch.wc_sec_hi" : k,
  );

  // ---- sched.h ----
  const SCHED = "sched.h";
  b.macros(SCHED, [
    "SCHEDOP_yield",
    "SCHEDOP_block",
    "SCHEDOP_shutdown",
    "SCHEDOP_poll",
    "SCHEDOP_remote_shutdown",
    "SCHEDOP_shutdown_code",
    "SCHEDOP_watchdog",
    "SCHEDOP_pin_override",
    "SHUTDOWN_poweroff",
    "SHUTDOWN_reboot",
    "SHUTDOWN_suspend",
    "SHUTDOWN_crash",
    "SHUTDOWN_watchdog",
    "SHUTDOWN_soft_reset",
    "SHUTDOWN_MAX",
  ]);
  b.table("ShutdownReason", SCHED, abi.ShutdownReason, (k) => `SHUTDOWN_${k}`);
  b.layout("SCHED_SHUTDOWN_LAYOUT", SCHED, abi.SCHED_SHUTDOWN_LAYOUT, "struct sched_shutdown");
  b.layout(
    "SCHED_REMOTE_SHUTDOWN_LAYOUT",
    SCHED,
    abi.SCHED_REMOTE_SHUTDOWN_LAYOUT,
    "struct sched_remote_shutdown",
  );

  // ---- xen/errno.h ----
  b.table("XenErrno", "errno.h", abi.XenErrno, (k) => `XEN_${k}`);

  // ---- hvm/ioreq.h ----
  const IO = "hvm/ioreq.h";
  b.macros(IO, [
    "IOREQ_READ",
    "IOREQ_WRITE",
    "STATE_IOREQ_NONE",
    "STATE_IOREQ_READY",
    "STATE_IOREQ_INPROCESS",
    "STATE_IORESP_READY",
    "IOREQ_TYPE_PIO",
    "IOREQ_TYPE_COPY",
    "IOREQ_TYPE_PCI_CONFIG",
    "IOREQ_TYPE_TIMEOFFSET",
    "IOREQ_TYPE_INVALIDATE",
    "IOREQ_BUFFER_SLOT_NUM",
  ]);
  b.layout("IOREQ_LAYOUT", IO, abi.IOREQ_LAYOUT, "struct ioreq", dotted({ size_field: "size" }));
  for (const [k, f] of Object.entries(abi.IOREQ_BITS)) b.bits(`IOREQ_BITS.${k}`, IO, f, "struct ioreq", k);
  b.num(
    "SHARED_IOPAGE_LAYOUT.vcpu_ioreq",
    IO,
    abi.SHARED_IOPAGE_LAYOUT.vcpu_ioreq,
    "offsetof(struct shared_iopage, vcpu_ioreq)",
  );
  b.num(
    "SHARED_IOPAGE_LAYOUT.stride",
    IO,
    abi.SHARED_IOPAGE_LAYOUT.stride,
    "sizeof(((struct shared_iopage *)0)->vcpu_ioreq[0])",
  );
  b.layout("BUF_IOREQ_LAYOUT", IO, abi.BUF_IOREQ_LAYOUT, "struct buf_ioreq");
  for (const [k, f] of Object.entries(abi.BUF_IOREQ_BITS))
    b.bits(`BUF_IOREQ_BITS.${k}`, IO, f, "struct buf_ioreq", k);
  b.layout("BUFFERED_IOPAGE_LAYOUT", IO, abi.BUFFERED_IOPAGE_LAYOUT, "struct buffered_iopage");

  // ---- hvm/params.h (some values are tools-only: checked in the __XEN_TOOLS__ x86_64 build) ----
  const PARAMS = "hvm/params.h";
  const toolsOnly = new Set(["HVM_PARAM_PAE_ENABLED", "HVM_PARAM_DM_DOMAIN", "HVM_PARAM_BUFIOREQ_EVTCHN"]);
  const params = Object.keys(abi).filter((k) => k.startsWith("HVM_PARAM_") || k === "HVM_NR_PARAMS");
  b.macros(
    PARAMS,
    params.filter((k) => !toolsOnly.has(k)),
  );
  b.macros(PARAMS, [...toolsOnly], X64);

  // ---- hvm/hvm_op.h ----
  const HOP = "hvm/hvm_op.h";
  b.macros(HOP, ["HVMOP_set_param", "HVMOP_get_param"]);
  // Tools-only in the header (under __XEN_TOOLS__).
  b.macros(
    HOP,
    ["HVM_IOREQSRV_BUFIOREQ_OFF", "HVM_IOREQSRV_BUFIOREQ_LEGACY", "HVM_IOREQSRV_BUFIOREQ_ATOMIC"],
    X64,
  );
  b.layout("XEN_HVM_PARAM_LAYOUT", HOP, abi.XEN_HVM_PARAM_LAYOUT, "struct xen_hvm_param");

  // ---- hvm/dm_op.h ----
  const DM = "hvm/dm_op.h";
  b.macros(
    DM,
    Object.keys(abi).filter((k) => /^_?XEN_DMOP_/.test(k)),
  );
  b.layout("XEN_DM_OP_LAYOUT", DM, abi.XEN_DM_OP_LAYOUT, "struct xen_dm_op");
  const dmLayouts: [string, Readonly<Record<string, number>>, string][] = [
    [
      "XEN_DM_OP_CREATE_IOREQ_SERVER_LAYOUT",
      abi.XEN_DM_OP_CREATE_IOREQ_SERVER_LAYOUT,
      "struct xen_dm_op_create_ioreq_server",
    ],
    [
      "XEN_DM_OP_GET_IOREQ_SERVER_INFO_LAYOUT",
      abi.XEN_DM_OP_GET_IOREQ_SERVER_INFO_LAYOUT,
      "struct xen_dm_op_get_ioreq_server_info",
    ],
    [
      "XEN_DM_OP_IOREQ_SERVER_RANGE_LAYOUT",
      abi.XEN_DM_OP_IOREQ_SERVER_RANGE_LAYOUT,
      "struct xen_dm_op_ioreq_server_range",
    ],
    [
      "XEN_DM_OP_SET_IOREQ_SERVER_STATE_LAYOUT",
      abi.XEN_DM_OP_SET_IOREQ_SERVER_STATE_LAYOUT,
      "struct xen_dm_op_set_ioreq_server_state",
    ],
    [
      "XEN_DM_OP_DESTROY_IOREQ_SERVER_LAYOUT",
      abi.XEN_DM_OP_DESTROY_IOREQ_SERVER_LAYOUT,
      "struct xen_dm_op_destroy_ioreq_server",
    ],
    [
      "XEN_DM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER_LAYOUT",
      abi.XEN_DM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER_LAYOUT,
      "struct xen_dm_op_map_mem_type_to_ioreq_server",
    ],
    [
      "XEN_DM_OP_SET_PCI_INTX_LEVEL_LAYOUT",
      abi.XEN_DM_OP_SET_PCI_INTX_LEVEL_LAYOUT,
      "struct xen_dm_op_set_pci_intx_level",
    ],
    [
      "XEN_DM_OP_SET_ISA_IRQ_LEVEL_LAYOUT",
      abi.XEN_DM_OP_SET_ISA_IRQ_LEVEL_LAYOUT,
      "struct xen_dm_op_set_isa_irq_level",
    ],
    [
      "XEN_DM_OP_SET_PCI_LINK_ROUTE_LAYOUT",
      abi.XEN_DM_OP_SET_PCI_LINK_ROUTE_LAYOUT,
      "struct xen_dm_op_set_pci_link_route",
    ],
  ];
  for (const [p, l, t] of dmLayouts) b.layout(p, DM, l, t);
  for (const [s, bus, d, f] of [
    [0, 0, 0, 0],
    [0, 0, 3, 0],
    [1, 0xff, 0x1f, 7],
    [0xffff, 0x12, 0x05, 2],
    [0x1ffff, 0x1ff, 0x3f, 0xf],
  ] as const) {
    b.num(
      `xenDmopPciSbdf(${s}, ${bus}, ${d}, ${f})`,
      DM,
      abi.xenDmopPciSbdf(s, bus, d, f),
      `(uint32_t)XEN_DMOP_PCI_SBDF(${s}u, ${bus}u, ${d}u, ${f}u)`,
    );
  }

  // ---- memory.h (XENMEM_acquire_resource: an ioreq server's pages) ----
  const MEM = "memory.h";
  b.macros(MEM, [
    "XENMEM_acquire_resource",
    "XENMEM_resource_ioreq_server",
    "XENMEM_resource_grant_table",
    "XENMEM_resource_vmtrace_buf",
    "XENMEM_resource_ioreq_server_frame_bufioreq",
  ]);
  for (const n of [0, 1, 127])
    b.num(
      `xenmemResourceIoreqServerFrameIoreq(${n})`,
      MEM,
      abi.xenmemResourceIoreqServerFrameIoreq(n),
      `XENMEM_resource_ioreq_server_frame_ioreq(${n})`,
    );
  b.abiLayout(
    "XEN_MEM_ACQUIRE_RESOURCE_LAYOUT",
    MEM,
    abi.XEN_MEM_ACQUIRE_RESOURCE_LAYOUT,
    "struct xen_mem_acquire_resource",
  );

  // ---- io/displif.h ----
  const DI = "io/displif.h";
  b.macros(DI, [
    "XENDISPL_PROTOCOL_VERSION_INT",
    "XENDISPL_OP_DBUF_CREATE",
    "XENDISPL_OP_DBUF_DESTROY",
    "XENDISPL_OP_FB_ATTACH",
    "XENDISPL_OP_FB_DETACH",
    "XENDISPL_OP_SET_CONFIG",
    "XENDISPL_OP_PG_FLIP",
    "XENDISPL_OP_GET_EDID",
    "XENDISPL_EVT_PG_FLIP",
    "XENDISPL_EDID_BLOCK_SIZE",
    "XENDISPL_EDID_BLOCK_COUNT",
    "XENDISPL_EDID_MAX_SIZE",
    "XENDISPL_DBUF_FLG_REQ_ALLOC",
    "XENDISPL_EVENT_PAGE_SIZE",
    "XENDISPL_IN_RING_OFFS",
    "XENDISPL_IN_RING_SIZE",
    "XENDISPL_IN_RING_LEN",
  ]);
  b.table("XendisplOp", DI, abi.XendisplOp, (k) => `XENDISPL_OP_${k}`);
  for (const n of [
    "XENDISPL_PROTOCOL_VERSION",
    "XENDISPL_DRIVER_NAME",
    "XENDISPL_LIST_SEPARATOR",
    "XENDISPL_RESOLUTION_SEPARATOR",
    "XENDISPL_FIELD_BE_VERSIONS",
    "XENDISPL_FIELD_FE_VERSION",
    "XENDISPL_FIELD_REQ_RING_REF",
    "XENDISPL_FIELD_REQ_CHANNEL",
    "XENDISPL_FIELD_EVT_RING_REF",
    "XENDISPL_FIELD_EVT_CHANNEL",
    "XENDISPL_FIELD_RESOLUTION",
    "XENDISPL_FIELD_BE_ALLOC",
    "XENDISPL_FIELD_UNIQUE_ID",
  ] as const) {
    b.str(n, DI, stringExport(n), n);
  }
  b.layout("XENDISPL_REQ_LAYOUT", DI, abi.XENDISPL_REQ_LAYOUT, "struct xendispl_req");
  b.layout("XENDISPL_RESP_LAYOUT", DI, abi.XENDISPL_RESP_LAYOUT, "struct xendispl_resp");
  b.layout("XENDISPL_EVT_LAYOUT", DI, abi.XENDISPL_EVT_LAYOUT, "struct xendispl_evt");
  const reqOps: [string, Readonly<Record<string, number>>, string][] = [
    ["XENDISPL_DBUF_CREATE_REQ", abi.XENDISPL_DBUF_CREATE_REQ, "dbuf_create"],
    ["XENDISPL_DBUF_DESTROY_REQ", abi.XENDISPL_DBUF_DESTROY_REQ, "dbuf_destroy"],
    ["XENDISPL_FB_ATTACH_REQ", abi.XENDISPL_FB_ATTACH_REQ, "fb_attach"],
    ["XENDISPL_FB_DETACH_REQ", abi.XENDISPL_FB_DETACH_REQ, "fb_detach"],
    ["XENDISPL_SET_CONFIG_REQ", abi.XENDISPL_SET_CONFIG_REQ, "set_config"],
    ["XENDISPL_PAGE_FLIP_REQ", abi.XENDISPL_PAGE_FLIP_REQ, "pg_flip"],
    ["XENDISPL_GET_EDID_REQ", abi.XENDISPL_GET_EDID_REQ, "get_edid"],
  ];
  for (const [p, l, u] of reqOps) b.layout(p, DI, l, "struct xendispl_req", (k) => `op.${u}.${k}`);
  b.layout(
    "XENDISPL_GET_EDID_RESP",
    DI,
    abi.XENDISPL_GET_EDID_RESP,
    "struct xendispl_resp",
    (k) => `op.get_edid.${k}`,
  );
  b.layout(
    "XENDISPL_PG_FLIP_EVT",
    DI,
    abi.XENDISPL_PG_FLIP_EVT,
    "struct xendispl_evt",
    (k) => `op.pg_flip.${k}`,
  );
  b.layout(
    "XENDISPL_PAGE_DIRECTORY_LAYOUT",
    DI,
    abi.XENDISPL_PAGE_DIRECTORY_LAYOUT,
    "struct xendispl_page_directory",
  );
  b.num(
    "XENDISPL_GREFS_PER_DIRECTORY_PAGE",
    DI,
    abi.XENDISPL_GREFS_PER_DIRECTORY_PAGE,
    "(4096 - offsetof(struct xendispl_page_directory, gref)) / sizeof(grant_ref_t)",
  );
  b.layout("XENDISPL_EVENT_PAGE_LAYOUT", DI, abi.XENDISPL_EVENT_PAGE_LAYOUT, "struct xendispl_event_page");
  b.num(
    "XENDISPL_RING_ENTRY_BYTES",
    DI,
    abi.XENDISPL_RING_ENTRY_BYTES,
    "sizeof(union xen_displif_sring_entry)",
  );
  b.num("XENDISPL_RING_SIZE", DI, abi.XENDISPL_RING_SIZE, "__CONST_RING_SIZE(xen_displif, 4096)");
  // XENDISPL_IN_RING_REF's byte offset for counters around the u32 wrap (63 slots: 2^32 mod 63 = 4).
  for (const idx of [0, 62, 63, 2 ** 32 - 5, 2 ** 32 - 4, 2 ** 32 - 1])
    b.num(
      `xendisplInRingOffset(${idx})`,
      DI,
      abi.xendisplInRingOffset(idx),
      `(unsigned long)((char *)&XENDISPL_IN_RING_REF((struct xendispl_event_page *)0, ${idx}u) - (char *)0)`,
    );

  return Object.freeze(b.checks);
}

/** Every checkable leaf exported by the package (numbers, bigints, strings, string-array entries). */
export function exportedLeaves(): string[] {
  const out: string[] = [];
  const walk = (path: string, v: unknown): void => {
    if (typeof v === "number" || typeof v === "bigint" || typeof v === "string") out.push(path);
    else if (Array.isArray(v)) {
      out.push(`${path}.length`);
      v.forEach((e, i) => {
        walk(`${path}[${i}]`, e);
      });
    } else if (v !== null && typeof v === "object")
      for (const [k, e] of Object.entries(v)) walk(`${path}.${k}`, e);
  };
  for (const [k, v] of Object.entries(EXPORTS)) walk(k, v);
  return out;
}

/** The NOT_CHECKED entry covering a leaf path (exact or a prefix), if any. */
export function notCheckedReason(path: string): string | undefined {
  for (const [k, reason] of Object.entries(NOT_CHECKED)) {
    if (path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[`)) return reason;
  }
  return undefined;
}
