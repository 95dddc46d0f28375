// displback's configuration, parsed once into a frozen object.
import { z } from "zod";

export const DisplbackServiceConfigSchema = z
  .object({
    /** xenstored: "" = its call-plane session (in-process or gRPC by service name); else a unix socket path. */
    xenstoredSocket: z.string().default(""),
    xenstored: z.string().default("xenstored"),
    hypervisor: z.string().default("hypervisor"),
    /**
     * The hypervisor's host id when it runs in another host process (the data path goes over this
     * host's link: its page-server must run). "" = the hypervisor shares this host process.
     */
    hypervisorHost: z.string().default(""),
    /** Ignored (kept so existing configurations load): the link needs no page-server address. */
    pageServer: z.string().default("page-server"),
    domid: z.number().int().min(0).max(0x7fef).default(0),
    /** dom0 vCPU our event channels are bound to (xenctrl DOM0_VCPU.displback). */
    vcpu: z.number().int().min(0).max(31).default(4),
    /** Largest display buffer accepted, MiB. */
    maxBufferMib: z.number().int().min(1).max(1024).default(64),
    /** Display buffers per device. */
    maxBuffers: z.number().int().min(1).max(4096).default(64),
    /** be-alloc: first gfn of dom0 memory handed to buffers, and how many pages at most. */
    allocFirstGfn: z.number().int().min(0).default(0x180000),
    allocMaxPages: z.number().int().min(0).default(65536),
    /** be-alloc: grant refs [first, first+count) of dom0's table are displback's. */
    grantRefFirst: z.number().int().min(8).default(16384),
    grantRefCount: z.number().int().min(1).default(16384),
  })
  .strict();

export type DisplbackServiceConfig = z.infer<typeof DisplbackServiceConfigSchema>;
