// blkback's configuration, parsed once into a frozen object.
import { z } from "zod";

export const BlkbackServiceConfigSchema = z
  .object({
    /** xenstored: "" = its call-plane session (in-process or gRPC by service name); else a unix socket path. */
    xenstoredSocket: z.string().default(""),
    /** Call target of xenstored's session API (service name in-process, or "host:port"). */
    xenstored: z.string().default("xenstored"),
    /** Call target of the hypervisor (service name in-process, or "host:port"). */
    hypervisor: z.string().default("hypervisor"),
    /**
     * The hypervisor's host id when it runs in another host process: grant maps, kicks and events
     * then go over this host's link (its page-server must run here; docs/data-plane.md).
     * "" = the hypervisor shares this host process.
     */
    hypervisorHost: z.string().default(""),
    /** Ignored (was the page-server's call target; the link needs no call). */
    pageServer: z.string().default("page-server"),
    /** Our domid. */
    domid: z.number().int().min(0).max(0x7fef).default(0),
    /** dom0 vCPU our event channels are bound to (xenctrl DOM0_VCPU.blkback). */
    vcpu: z.number().int().min(0).max(31).default(2),
    /** `max-ring-page-order` advertised (6 = 64 pages). */
    maxRingPageOrder: z.number().int().min(0).max(6).default(6),
    /** `multi-queue-max-queues` advertised. */
    maxQueues: z.number().int().min(1).max(64).default(4),
    /** `feature-max-indirect-segments` advertised; 0 = no indirect descriptors. */
    maxIndirectSegments: z.number().int().min(0).max(4096).default(256),
    /** Offer persistent grants. */
    persistent: z.boolean().default(true),
    /** Persistent grants kept per ring (Linux max_pgrants). */
    maxPersistentGrants: z.number().int().min(0).default(1056),
    /**
     * µs a ring keeps looking for requests (on setImmediate turns) after the last ones before it
     * asks for an event and sleeps; 0 = sleep at once. A busy frontend then never pays a wake-up.
     */
    pollUs: z.number().min(0).max(100_000).default(50),
    /**
     * A thread per queue (Linux's kthread per ring, xen_blkif_schedule): queue q ≥ 1 of a vbd whose
     * store can be opened a second time (null, file) is served on thread q, which receives on dom0
     * vCPU `queueThreadVcpus[q - 1]` and opens its own instance of the store; queue 0, the other
     * queues and other stores stay on the service's thread. The service's fault points apply on the
     * threads too (see README "Queue threads").
     */
    queueThreads: z.boolean().default(false),
    /** The dom0 vCPUs of queue threads 1, 2, … (xenctrl DOM0_VCPU.blkbackQueues). */
    queueThreadVcpus: z.array(z.number().int().min(0).max(31)).default([6, 7, 8]),
    /**
     * How `params` is read: "spec" = a blkstore spec ("memory:size=64M", "file:path=…"); a bare path
     * (starting with "/") is a raw image file.
     */
    params: z
      .object({
        /**
         * The image directory: relative file paths are joined to it, and absolute ones must lie
         * inside it (or be on allowList). "" = none: only allow-listed paths.
         */
        fileDir: z.string().default(""),
        /** Absolute paths (image files or block devices) allowed outside fileDir, exactly. */
        allowList: z.array(z.string()).default([]),
        /** Block devices may back a disk (inside fileDir or on allowList). */
        allowBlockDevices: z.boolean().default(false),
        /** Refuse file stores (tests, sandboxes). */
        allowFiles: z.boolean().default(true),
        /** Largest store held in this process's memory (memory:, array data=memory), bytes. */
        maxMemoryBytes: z
          .number()
          .int()
          .min(0)
          .default(4 * 1024 ** 3),
      })
      .strict()
      .default({
        fileDir: "",
        allowList: [],
        allowBlockDevices: false,
        allowFiles: true,
        maxMemoryBytes: 4 * 1024 ** 3,
      }),
  })
  .strict();

export type BlkbackServiceConfig = z.infer<typeof BlkbackServiceConfigSchema>;
