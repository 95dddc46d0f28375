// `xensim xenstored …`: xenstored as a process of its own.
import type { Command } from "commander";
import { examples } from "../command.js";
import { serviceEntry } from "../services.js";

/**
 * Runs one service as this process (the service's own standalone main), with flags translated to
 * the runtime's: the process is the daemon, so `kill -9 <pid>` kills the daemon itself.
 */
async function runStandalone(entry: string, flags: string[]): Promise<void> {
  process.argv = [process.argv[0]!, entry, ...flags];
  await import(entry);
}

export default function registerXenstored(program: Command): void {
  program
    .command("xenstored")
    .addHelpText("after", examples("npx xensim xenstored --socket /tmp/xs.sock --state-dir /tmp/xs-state"))
    .description("run xenstored standalone: xs wire protocol on a unix socket, gRPC API, persistent state")
    .requiredOption("--socket <path>", "unix socket for the xs wire protocol (point XENSTORED_PATH here)")
    .option("--state-dir <dir>", "keep the tree in DIR (snapshot + journal) across restarts")
    .option("--grpc <host:port>", "also serve the gRPC API at this address")
    .option("--nats <url>", "publish watch events for gRPC sessions on this NATS server")
    .option("--fsync", "fsync every journal record")
    .option("--quota-error <style>", "xenstored (ENOSPC) or oxenstored (EQUOTA)")
    .option("--http-port <port>", "serve /healthz and /metrics on this port")
    .option("--keys <dir>", "credentials (xensim keys init): gRPC with mutual TLS, NATS with its nkey")
    .option(
      "--insecure",
      "serve --grpc / use --nats without credentials (anyone who reaches them is trusted)",
    )
    .action(
      async (o: {
        socket: string;
        stateDir?: string;
        grpc?: string;
        nats?: string;
        fsync?: boolean;
        quotaError?: string;
        httpPort?: string;
        keys?: string;
        insecure?: boolean;
      }) => {
        const keys = o.keys ?? process.env.XENSIM_KEYS;
        if ((o.grpc || o.nats) && !keys && !o.insecure)
          throw new Error(
            "--grpc/--nats listen beyond this process: give credentials (--keys DIR from `xensim keys init`, or $XENSIM_KEYS), or --insecure",
          );
        const flags = ["--socket", o.socket];
        if (keys) flags.push("--keys", keys);
        if (o.stateDir) flags.push("--state-dir", o.stateDir);
        if (o.grpc) flags.push("--grpc-listen", o.grpc);
        if (o.nats) flags.push("--nats", o.nats);
        if (o.fsync) flags.push("--fsync", "true");
        if (o.quotaError) flags.push("--quota-error", o.quotaError);
        if (o.httpPort) flags.push("--http-port", o.httpPort);
        await runStandalone(serviceEntry("xenstored"), flags);
      },
    );
}
