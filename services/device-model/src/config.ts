// The device-model service's configuration, parsed once into a frozen object.
import { z } from "zod";

export const DeviceModelConfigSchema = z
  .object({
    /** xenstored: "" = its call-plane session (in-process or gRPC by service name); else a unix socket path. */
    xenstoredSocket: z.string().default(""),
    /** Call target of xenstored's session API. */
    xenstored: z.string().default("xenstored"),
    /** Call target of the hypervisor (Hypervisor and DmOp services). */
    hypervisor: z.string().default("hypervisor"),
    /**
     * The hypervisor's host id when it runs in another host process: the ioreq pages and guest RAM
     * are foreign-mapped over this host's link (a page-server must run here; docs/data-plane.md).
     * "" = the hypervisor shares this host process.
     */
    hypervisorHost: z.string().default(""),
    /** Our domid (the emulators run in dom0). */
    domid: z.number().int().min(0).max(0x7fef).default(0),
    /** The dom0 vCPU our ports are bound to (xenctrl DOM0_VCPU.deviceModel; a second instance: 5). */
    vcpu: z.number().int().min(0).max(31).default(3),
    /** The emulator roles this instance runs ("primary", "secondary"). */
    roles: z
      .array(z.enum(["primary", "secondary"]))
      .min(1)
      .default(["primary"]),
    /** Full rescan period of the event receiver and the slots, ms. */
    slowScanMs: z.number().int().min(5).default(100),
    /**
     * Serve the emulators on a thread of their own blocked in Atomics.wait (on dom0's shared_info
     * in the hypervisor's host process, on this host's shadow of it in another); false: on the
     * service's event loop (Atomics.waitAsync).
     */
    ioreqThread: z.boolean().default(true),
    /** Re-register the emulators a previous instance of this service left in xenstore (after a crash). */
    recover: z.boolean().default(true),
    /**
     * Directory of the QMP sockets (libxl's run dir: `qmp-libxl-<domid>`, the secondary emulator's
     * `qmp-libxl-<domid>-secondary`); "" = a directory of this process under the OS temp dir.
     */
    qmpDir: z.string().default(""),
  })
  .readonly();

export type DeviceModelConfig = z.output<typeof DeviceModelConfigSchema>;
