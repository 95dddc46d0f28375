// HYPERVISOR_dm_op(domid, bufs): bufs[0] is a struct xen_dm_op (op u32, pad u32, union u). The
// decoder checks what Xen's dm_op() checks, in its order, and dispatches the ioreq-server ops to
// IoreqServers; the reply is the buffer as Xen copies it back (out fields of create and get_info).

import {
  XEN_DM_OP_CREATE_IOREQ_SERVER_LAYOUT as CREATE,
  XEN_DM_OP_DESTROY_IOREQ_SERVER_LAYOUT as DESTROY,
  XEN_DM_OP_GET_IOREQ_SERVER_INFO_LAYOUT as INFO,
  XEN_DM_OP_IOREQ_SERVER_RANGE_LAYOUT as RANGE,
  XEN_DM_OP_LAYOUT,
  XEN_DM_OP_SET_IOREQ_SERVER_STATE_LAYOUT as STATE,
  XEN_DM_OP_SET_ISA_IRQ_LEVEL_LAYOUT as ISA_IRQ,
  XEN_DM_OP_SET_PCI_INTX_LEVEL_LAYOUT as INTX,
  XEN_DM_OP_SET_PCI_LINK_ROUTE_LAYOUT as LINK_ROUTE,
  XEN_DMOP_create_ioreq_server,
  XEN_DMOP_destroy_ioreq_server,
  XEN_DMOP_get_ioreq_server_info,
  XEN_DMOP_map_io_range_to_ioreq_server,
  XEN_DMOP_no_gfns,
  XEN_DMOP_nr_vcpus,
  XEN_DMOP_set_ioreq_server_state,
  XEN_DMOP_set_isa_irq_level,
  XEN_DMOP_set_pci_intx_level,
  XEN_DMOP_set_pci_link_route,
  XEN_DMOP_unmap_io_range_from_ioreq_server,
  XenErrno,
} from "@xensim/abi";
import type { IoreqServers } from "./servers.js";

const U = XEN_DM_OP_LAYOUT.u;

/**
 * sizeof of each op's union member (dm_op's op_size table runs up to XEN_DMOP_nr_vcpus).
 * Unlisted ops are answered -EOPNOTSUPP here — XEN_DMOP_set_irq_level among them: x86 Xen has no
 * entry for it (it is Arm's), so its dm_op falls through to -EOPNOTSUPP too.
 */
const OP_SIZE: Readonly<Record<number, number>> = Object.freeze({
  [XEN_DMOP_create_ioreq_server]: CREATE.size,
  [XEN_DMOP_get_ioreq_server_info]: INFO.size,
  [XEN_DMOP_map_io_range_to_ioreq_server]: RANGE.size,
  [XEN_DMOP_unmap_io_range_from_ioreq_server]: RANGE.size,
  [XEN_DMOP_set_ioreq_server_state]: STATE.size,
  [XEN_DMOP_destroy_ioreq_server]: DESTROY.size,
  [XEN_DMOP_set_pci_intx_level]: INTX.size,
  [XEN_DMOP_set_isa_irq_level]: ISA_IRQ.size,
  [XEN_DMOP_set_pci_link_route]: LINK_ROUTE.size,
});

/** What dm_op needs to know about the target domain (the hypervisor's domain table). */
export interface DmOpDomains {
  exists(domid: number): boolean;
  isHvm(domid: number): boolean;
  /** xsm_dm_op (XSM_DM_PRIV): the control domain, or the target's device-model domain. */
  mayDmOp(caller: number, domid: number): boolean;
  vcpus(domid: number): number;
}

export interface DmOpResult {
  rc: number;
  /** bufs[0] after the call (out fields filled on success). */
  buf: Uint8Array;
}

/** dm_op(): the checks of xen/arch/x86/hvm/dm.c, then ioreq_server_dm_op. */
export function doDmOp(
  servers: IoreqServers,
  domains: DmOpDomains,
  caller: number,
  domid: number,
  input: Uint8Array,
): DmOpResult {
  const buf = Uint8Array.from(input);
  const fail = (rc: number): DmOpResult => ({ rc, buf });
  // rcu_lock_remote_domain_by_id
  if (!domains.exists(domid)) return fail(-XenErrno.ESRCH);
  if (domid === caller) return fail(-XenErrno.EPERM);
  if (!domains.isHvm(domid)) return fail(-XenErrno.EINVAL);
  if (!domains.mayDmOp(caller, domid)) return fail(-XenErrno.EPERM);
  if (buf.length < U) return fail(-XenErrno.EFAULT);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const op = dv.getUint32(XEN_DM_OP_LAYOUT.op, true);
  if (op > XEN_DMOP_nr_vcpus) return fail(-XenErrno.EOPNOTSUPP);
  const size = OP_SIZE[op];
  if (size === undefined) return fail(-XenErrno.EOPNOTSUPP);
  if (buf.length < U + size) return fail(-XenErrno.EFAULT);
  if (dv.getUint32(XEN_DM_OP_LAYOUT.pad, true) !== 0) return fail(-XenErrno.EINVAL);
  const u16 = (off: number) => dv.getUint16(U + off, true);
  const u8 = (off: number) => dv.getUint8(U + off);
  switch (op) {
    case XEN_DMOP_create_ioreq_server: {
      if (u8(CREATE.pad) || u8(CREATE.pad + 1) || u8(CREATE.pad + 2)) return fail(-XenErrno.EINVAL);
      const r = servers.create(caller, domid, u8(CREATE.handle_bufioreq), domains.vcpus(domid));
      if (r.rc === 0) dv.setUint16(U + CREATE.id, r.id, true);
      return { rc: r.rc, buf };
    }
    case XEN_DMOP_get_ioreq_server_info: {
      const flags = u16(INFO.flags);
      if (flags & ~XEN_DMOP_no_gfns) return fail(-XenErrno.EINVAL);
      const r = servers.getInfo(caller, domid, u16(INFO.id), (flags & XEN_DMOP_no_gfns) === 0);
      if (r.rc === 0) dv.setUint32(U + INFO.bufioreq_port, r.bufioreqPort, true);
      return { rc: r.rc, buf };
    }
    case XEN_DMOP_map_io_range_to_ioreq_server:
    case XEN_DMOP_unmap_io_range_from_ioreq_server: {
      if (u16(RANGE.pad)) return fail(-XenErrno.EINVAL);
      const args = [
        caller,
        domid,
        u16(RANGE.id),
        dv.getUint32(U + RANGE.type, true),
        dv.getBigUint64(U + RANGE.start, true),
        dv.getBigUint64(U + RANGE.end, true),
      ] as const;
      const rc =
        op === XEN_DMOP_map_io_range_to_ioreq_server
          ? servers.mapRange(...args)
          : servers.unmapRange(...args);
      return { rc, buf };
    }
    case XEN_DMOP_set_ioreq_server_state: {
      if (u8(STATE.pad)) return fail(-XenErrno.EINVAL);
      return { rc: servers.setState(caller, domid, u16(STATE.id), u8(STATE.enabled) !== 0), buf };
    }
    case XEN_DMOP_destroy_ioreq_server: {
      if (u16(DESTROY.pad)) return fail(-XenErrno.EINVAL);
      return { rc: servers.destroy(caller, domid, u16(DESTROY.id)), buf };
    }
    // The interrupt lines (xen/arch/x86/hvm/dm.c → hvm/irq.c and the vpic): irq.ts.
    case XEN_DMOP_set_isa_irq_level:
      return {
        rc:
          servers.irq(domid, domains.vcpus(domid))?.setIsaIrqLevel(u8(ISA_IRQ.isa_irq), u8(ISA_IRQ.level)) ??
          -XenErrno.ENOMEM,
        buf,
      };
    case XEN_DMOP_set_pci_intx_level:
      return {
        rc:
          servers
            .irq(domid, domains.vcpus(domid))
            ?.setPciIntxLevel(
              u16(INTX.domain),
              u8(INTX.bus),
              u8(INTX.device),
              u8(INTX.intx),
              u8(INTX.level),
            ) ?? -XenErrno.ENOMEM,
        buf,
      };
    case XEN_DMOP_set_pci_link_route:
      return {
        rc:
          servers
            .irq(domid, domains.vcpus(domid))
            ?.setPciLinkRoute(u8(LINK_ROUTE.link), u8(LINK_ROUTE.isa_irq)) ?? -XenErrno.ENOMEM,
        buf,
      };
    default:
      return fail(-XenErrno.EOPNOTSUPP);
  }
}

// ---- encoders (the emulator's side: libxendevicemodel) -----------------------------------------------

function dmOpBuf(op: number, unionSize: number, fill: (dv: DataView) => void): Uint8Array {
  const buf = new Uint8Array(U + unionSize);
  const dv = new DataView(buf.buffer);
  dv.setUint32(XEN_DM_OP_LAYOUT.op, op, true);
  fill(dv);
  return buf;
}

export function encodeCreateIoreqServer(handleBufioreq: number): Uint8Array {
  return dmOpBuf(XEN_DMOP_create_ioreq_server, CREATE.size, (dv) =>
    dv.setUint8(U + CREATE.handle_bufioreq, handleBufioreq),
  );
}
export function decodeCreateIoreqServerId(buf: Uint8Array): number {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint16(U + CREATE.id, true);
}

export function encodeGetIoreqServerInfo(id: number, flags = XEN_DMOP_no_gfns): Uint8Array {
  return dmOpBuf(XEN_DMOP_get_ioreq_server_info, INFO.size, (dv) => {
    dv.setUint16(U + INFO.id, id, true);
    dv.setUint16(U + INFO.flags, flags, true);
  });
}
export function decodeGetIoreqServerInfo(buf: Uint8Array): {
  bufioreqPort: number;
  ioreqGfn: bigint;
  bufioreqGfn: bigint;
} {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    bufioreqPort: dv.getUint32(U + INFO.bufioreq_port, true),
    ioreqGfn: dv.getBigUint64(U + INFO.ioreq_gfn, true),
    bufioreqGfn: dv.getBigUint64(U + INFO.bufioreq_gfn, true),
  };
}

export function encodeIoRange(
  map: boolean,
  id: number,
  type: number,
  start: bigint,
  end: bigint,
): Uint8Array {
  return dmOpBuf(
    map ? XEN_DMOP_map_io_range_to_ioreq_server : XEN_DMOP_unmap_io_range_from_ioreq_server,
    RANGE.size,
    (dv) => {
      dv.setUint16(U + RANGE.id, id, true);
      dv.setUint32(U + RANGE.type, type, true);
      dv.setBigUint64(U + RANGE.start, BigInt.asUintN(64, start), true);
      dv.setBigUint64(U + RANGE.end, BigInt.asUintN(64, end), true);
    },
  );
}

export function encodeSetIoreqServerState(id: number, enabled: boolean): Uint8Array {
  return dmOpBuf(XEN_DMOP_set_ioreq_server_state, STATE.size, (dv) => {
    dv.setUint16(U + STATE.id, id, true);
    dv.setUint8(U + STATE.enabled, enabled ? 1 : 0);
  });
}

export function encodeDestroyIoreqServer(id: number): Uint8Array {
  return dmOpBuf(XEN_DMOP_destroy_ioreq_server, DESTROY.size, (dv) => dv.setUint16(U + DESTROY.id, id, true));
}

export function encodeSetIsaIrqLevel(isaIrq: number, level: number): Uint8Array {
  return dmOpBuf(XEN_DMOP_set_isa_irq_level, ISA_IRQ.size, (dv) => {
    dv.setUint8(U + ISA_IRQ.isa_irq, isaIrq);
    dv.setUint8(U + ISA_IRQ.level, level);
  });
}

export function encodeSetPciIntxLevel(
  segment: number,
  bus: number,
  device: number,
  intx: number,
  level: number,
): Uint8Array {
  return dmOpBuf(XEN_DMOP_set_pci_intx_level, INTX.size, (dv) => {
    dv.setUint16(U + INTX.domain, segment, true);
    dv.setUint8(U + INTX.bus, bus);
    dv.setUint8(U + INTX.device, device);
    dv.setUint8(U + INTX.intx, intx);
    dv.setUint8(U + INTX.level, level);
  });
}

export function encodeSetPciLinkRoute(link: number, isaIrq: number): Uint8Array {
  return dmOpBuf(XEN_DMOP_set_pci_link_route, LINK_ROUTE.size, (dv) => {
    dv.setUint8(U + LINK_ROUTE.link, link);
    dv.setUint8(U + LINK_ROUTE.isa_irq, isaIrq);
  });
}
