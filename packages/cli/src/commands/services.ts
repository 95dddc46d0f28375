// `xensim xenstored …` and `xensim up`: running services.
import { createInProcessCallClient } from "@xensim/bus";
import { loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import type { Command } from "commander";
import { serviceEntry } from "../services.js";

/**
 * Runs one service as this process (the service's own standalone main), with flags translated to
 * the runtime's: the process is the daemon, so `kill -9 <pid>` kills the daemon itself.
 */
async function runStandalone(entry: string, flags: string[]): Promise<void> {
  process.argv = [process.argv[0]!, entry, ...flags];
  await import(entry);
}

export function registerServiceCommands(program: Command): void {
  program
    .command("xenstored")
    .description("run xenstored standalone: xs wire protocol on a unix socket, gRPC API, persistent state")
    .requiredOption("--socket <path>", "unix socket for the xs wire protocol (point XENSTORED_PATH here)")
    .option("--state-dir <dir>", "keep the tree in DIR (snapshot + journal) across restarts")
    .option("--grpc <host:port>", "also serve the gRPC API at this address")
    .option("--nats <url>", "publish watch events for gRPC sessions on this NATS server")
    .option("--fsync", "fsync every journal record")
    .option("--quota-error <style>", "xenstored (ENOSPC) or oxenstored (EQUOTA)")
    .option("--http-port <port>", "serve /healthz and /metrics on this port")
    .action(
      async (o: {
        socket: string;
        stateDir?: string;
        grpc?: string;
        nats?: string;
        fsync?: boolean;
        quotaError?: string;
        httpPort?: string;
      }) => {
        const flags = ["--socket", o.socket];
        if (o.stateDir) flags.push("--state-dir", o.stateDir);
        if (o.grpc) flags.push("--grpc-listen", o.grpc);
        if (o.nats) flags.push("--nats", o.nats);
        if (o.fsync) flags.push("--fsync", "true");
        if (o.quotaError) flags.push("--quota-error", o.quotaError);
        if (o.httpPort) flags.push("--http-port", o.httpPort);
        await runStandalone(serviceEntry("xenstored"), flags);
      },
    );

  program
    .command("up")
    .description("bring up an emulated Xen host in this process (embedded placement)")
    .option("--state-dir <dir>", "state directory", ".xensim")
    .option("--socket <path>", "xenstored unix socket (default: <state-dir>/xenstored.sock)")
    .option("--nats <url>", "distributed placement: events over this NATS server, calls over gRPC")
    .option("--http-port <port>", "serve the host's /healthz and /metrics", "0")
    .option("--exit-after-ready", "stop as soon as every service is ready (smoke test)")
    .action(
      async (o: {
        stateDir: string;
        socket?: string;
        nats?: string;
        httpPort: string;
        exitAfterReady?: boolean;
      }) => {
        const socket = o.socket ?? `${o.stateDir}/xenstored.sock`;
        const started = performance.now();
        const host: HostHandle = await startHost({
          services: [
            {
              name: "xenstored",
              entry: serviceEntry("xenstored"),
              config: { socket, stateDir: `${o.stateDir}/xenstored` },
            },
            { name: "hypervisor", entry: serviceEntry("hypervisor"), config: {} },
          ],
          ...(o.nats ? { nats: o.nats } : {}),
          http: { port: Number(o.httpPort) },
          logLevel: process.env.XENSIM_LOG_LEVEL ?? "warn",
        });
        await host.ready;
        const ms = Math.round(performance.now() - started);
        process.stdout.write(
          `xensim host ${host.hostId} up in ${ms} ms\n` +
            `  services: ${[...host.services.keys()].join(", ")}\n` +
            `  xenstored: XENSTORED_PATH=${socket}\n` +
            (host.httpAddress
              ? `  health: ${host.httpAddress}/healthz  metrics: ${host.httpAddress}/metrics\n`
              : ""),
        );
        const shutdown = async (sig: string) => {
          process.stdout.write(`\n${sig}: stopping services\n`);
          await host.stop();
          process.stdout.write("stopped\n");
          process.exit(0);
        };
        if (o.exitAfterReady) return shutdown("ready");
        process.once("SIGINT", () => void shutdown("SIGINT"));
        process.once("SIGTERM", () => void shutdown("SIGTERM"));
        host.done.catch((err: Error) => {
          process.stderr.write(`host failed: ${err.message}\n`);
          process.exit(1);
        });
      },
    );
}

/** An embedded host running xenstored, and an in-process call client for it (benchmarks). */
export async function embeddedXenstored(): Promise<{
  calls: ReturnType<typeof createInProcessCallClient>;
  stop: () => Promise<void>;
}> {
  const host = await startHost({
    services: [{ name: "xenstored", entry: serviceEntry("xenstored"), config: {} }],
    logLevel: "warn",
  });
  await host.ready;
  const def = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
  const calls = createInProcessCallClient(def, "xenstored");
  return {
    calls,
    stop: async () => {
      calls.close();
      await host.stop();
    },
  };
}
