// `xensim keys init DIR`: the credentials of a deployment (a local CA and per-service certificates
// for gRPC mutual TLS, NATS nkeys with per-service permissions and the nats-server config, the
// toolstack API token). `xensim up --keys DIR` and deploy/host.mjs use them.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { DEFAULT_HOST_SERVICES, initKeys } from "@xensim/security";
import type { Command } from "commander";
import { examples } from "../command.js";

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

export default function registerKeys(program: Command): void {
  const keys = program
    .command("keys")
    .addHelpText(
      "after",
      examples("npx xensim keys init .xensim-keys --host hostA=hypervisor,xenstored,toolstack"),
    )
    .description("credentials: a local CA, certificates, NATS nkeys, API token");
  keys
    .command("init")
    .addHelpText(
      "after",
      examples(
        "npx xensim keys init .xensim-keys",
        "npx xensim keys init /keys --host host-a=hypervisor,xenstored,page-server,guest,toolstack --host blkback=page-server,blkback --nats-listen 0.0.0.0:4222",
      ),
    )
    .argument("<dir>", "the credentials directory (made 0700; secrets 0600)")
    .description(
      "make a CA, a certificate and an nkey per service of each host, nats-server.conf and an API token",
    )
    .option(
      "--host <id=svc,svc>",
      `a host process and its services (repeatable; default: this host's name with every service: ${DEFAULT_HOST_SERVICES.join(",")})`,
      collect,
    )
    .option(
      "--client <name>",
      "a client tool's credentials (repeatable; default: admin, acting as dom0)",
      collect,
    )
    .option("--dns <name>", "an extra DNS name in every service certificate (repeatable)", collect)
    .option("--nats-listen <host:port>", "nats-server.conf listen address", "127.0.0.1:4222")
    .option("--nats-http-port <port>", "nats-server.conf monitoring port")
    .option("--force", "replace existing credentials")
    .option("--if-missing", "do nothing when DIR already holds credentials (a compose init container)")
    .action(
      async (
        dir: string,
        options: {
          host?: string[];
          client?: string[];
          dns?: string[];
          natsListen: string;
          natsHttpPort?: string;
          force?: boolean;
          ifMissing?: boolean;
        },
      ) => {
        if (options.ifMissing && existsSync(join(dir, "ca.key"))) {
          process.stdout.write(`credentials in ${dir} kept\n`);
          return;
        }
        const hosts: Record<string, string[]> = {};
        for (const h of options.host ?? [`${hostname()}=${DEFAULT_HOST_SERVICES.join(",")}`]) {
          const eq = h.indexOf("=");
          const id = eq < 0 ? h : h.slice(0, eq);
          const svcs =
            eq < 0
              ? [...DEFAULT_HOST_SERVICES]
              : h
                  .slice(eq + 1)
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean);
          hosts[id] = [...(hosts[id] ?? []), ...svcs];
        }
        const m = await initKeys(dir, {
          hosts,
          ...(options.client ? { clients: options.client } : {}),
          ...(options.dns ? { dnsNames: options.dns } : {}),
          natsListen: options.natsListen,
          ...(options.natsHttpPort !== undefined ? { natsHttpPort: Number(options.natsHttpPort) } : {}),
          ...(options.force ? { force: true } : {}),
        });
        process.stdout.write(
          `credentials in ${dir}\n` +
            Object.entries(m.hosts)
              .map(([h, s]) => `  host ${h}: ${s.join(", ")}\n`)
              .join("") +
            `  clients: ${m.clients.join(", ")}\n` +
            `  nats-server -c ${dir}/nats-server.conf   (nkey users with per-service permissions)\n` +
            `  xensim up --keys ${dir} …                 (gRPC mutual TLS, NATS nkeys, API token ${dir}/api-token)\n`,
        );
      },
    );
}
