// The toolstack service's configuration, parsed once into a frozen object.
import { z } from "zod";

export const ToolstackServiceConfigSchema = z
  .object({
    /** xenstored: "" = its call-plane session (in-process or gRPC by service name); else a unix socket path. */
    xenstoredSocket: z.string().default(""),
    /** Call target of xenstored's session API (service name in-process, or "host:port"). */
    xenstored: z.string().default("xenstored"),
    /** Call target of the hypervisor (service name in-process, or "host:port"). */
    hypervisor: z.string().default("hypervisor"),
    /** Call target of the guest runtime; "" = none: domains are built and unpaused with no kernel. */
    guest: z.string().default(""),
    /**
     * The guest runtime's host id when it is not the hypervisor's host process (docker-compose.yml:
     * the `guest` container): domains are created homed there. "" = the hypervisor's host.
     */
    guestHost: z.string().default(""),
    /**
     * Call targets of the device-model service instances by emulator role ("" = none). With a
     * primary, HVM domains get their emulator there (xl.cfg device_model_version = "none" opts out);
     * device_model_args = ["-device", "pci-serial"] adds the secondary.
     */
    deviceModels: z
      .object({ primary: z.string().default(""), secondary: z.string().default("") })
      .strict()
      .default({ primary: "", secondary: "" }),
    /** libxl's XEN_LIB_DIR (soft reset's qemu-save.<domid>); "" = <tmpdir>/xensim-lib-<hostId>. */
    libDir: z.string().default(""),
    /** Call target of displback's Display API (screens as PNG, the live page); "" = none. */
    displback: z.string().default(""),
    /**
     * How often every managed domain is looked up (one DomainInfo each) to notice one that vanished
     * without an event — lost with a restarted hypervisor's host; on_crash="restart" re-creates it. ms.
     */
    lostCheckMs: z.number().int().min(100).default(2000),
    /** Memory the host gives domains, MiB (dom0's included): create refuses beyond it. */
    hostMemoryMib: z.number().int().min(1).default(1024),
    /** Largest `memory` a config may ask for, MiB (xl.cfg errors past it); default hostMemoryMib. */
    maxDomainMemoryMib: z.number().int().min(1).optional(),
    /** The HTTP API (xl over HTTP). Port 0 = any free port (logged). */
    api: z
      .object({
        host: z.string().default("127.0.0.1"),
        port: z.number().int().min(0).max(65535).default(9080),
        /** A file holding the API token every request must carry; "" = no token (tests only). */
        tokenFile: z.string().default(""),
      })
      .strict()
      .default({ host: "127.0.0.1", port: 9080, tokenFile: "" }),
    /**
     * Which disks xl create accepts (the host's disk policy; blkback enforces the same at open).
     * imageDir "" = file targets only from allowList.
     */
    disks: z
      .object({
        imageDir: z.string().default(""),
        allowList: z.array(z.string()).default([]),
        allowBlockDevices: z.boolean().default(false),
        allowFiles: z.boolean().default(true),
        maxMemoryBytes: z
          .number()
          .int()
          .min(0)
          .default(4 * 1024 ** 3),
      })
      .strict()
      .default({
        imageDir: "",
        allowList: [],
        allowBlockDevices: false,
        allowFiles: true,
        maxMemoryBytes: 4 * 1024 ** 3,
      }),
    /**
     * The container fault kinds (container.killed, .paused, .restarted, .network-disconnected) on a
     * compose deployment: Docker's API on this socket (deploy/chaos.compose.yml mounts it). project
     * "" = this toolstack's own container's compose project. Absent: container kinds are refused.
     */
    chaos: z
      .object({
        docker: z
          .object({
            socket: z.string().default("/var/run/docker.sock"),
            project: z.string().default(""),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    /** Largest config body accepted, bytes. */
    maxConfigBytes: z.number().int().min(256).default(65536),
    timeouts: z
      .object({
        /** Backends reaching InitWait after create / attach. */
        backendMs: z.number().int().min(1).default(10_000),
        /** Frontends reaching Connected after attach (guest runtime only). */
        frontendMs: z.number().int().min(1).default(10_000),
        /** The guest acting on control/shutdown. */
        shutdownMs: z.number().int().min(1).default(10_000),
        /** The closing handshake of block-detach before forcing. */
        detachMs: z.number().int().min(1).default(10_000),
        /** The closing handshake of each device during destroy before forcing. */
        destroyDeviceMs: z.number().int().min(0).default(2_000),
        /** A destroyed domain leaving the hypervisor's list. */
        reapMs: z.number().int().min(1).default(10_000),
      })
      .strict()
      .default({
        backendMs: 10_000,
        frontendMs: 10_000,
        shutdownMs: 10_000,
        detachMs: 10_000,
        destroyDeviceMs: 2_000,
        reapMs: 10_000,
      }),
  })
  .strict();

export type ToolstackServiceConfig = z.infer<typeof ToolstackServiceConfigSchema>;
