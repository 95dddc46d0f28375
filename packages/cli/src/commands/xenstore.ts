// `xensim xenstore …`: client commands in the spirit of the xenstore-* tools.
import { connectXenstore, defaultXenstoredPath, type XenstoreClient } from "@xensim/xenstore-client";
import type { Command } from "commander";
import { connectCalls } from "../connect.js";

interface ConnOpts {
  socket?: string;
  grpc?: string;
  nats?: string;
  domid?: string;
}

async function open(opts: ConnOpts): Promise<{ client: XenstoreClient; done: () => Promise<void> }> {
  if (opts.grpc) {
    const { calls, bus, close } = await connectCalls(opts.grpc, opts.nats);
    const client = await connectXenstore({
      calls,
      bus,
      domid: Number(opts.domid ?? 0),
      clientName: "xensim-cli",
    });
    return {
      client,
      done: async () => {
        await client.close();
        await close();
      },
    };
  }
  const client = await connectXenstore({ socket: opts.socket ?? defaultXenstoredPath(), reconnect: false });
  return { client, done: () => client.close() };
}

async function run(opts: ConnOpts, fn: (c: XenstoreClient) => Promise<void>): Promise<void> {
  const { client, done } = await open(opts);
  try {
    await fn(client);
  } finally {
    await done();
  }
}

async function listTree(c: XenstoreClient, path: string, indent: number, out: string[]): Promise<void> {
  for (const child of await c.ls(path)) {
    const p = path === "/" ? `/${child}` : `${path}/${child}`;
    const v = await c.tryRead(p);
    out.push(`${" ".repeat(indent)}${child} = "${v ?? ""}"`);
    await listTree(c, p, indent + 1, out);
  }
}

export default function registerXenstore(program: Command): void {
  const xs = program
    .command("xenstore")
    .description("talk to xenstored (unix socket by default, like the xenstore-* tools)")
    .option(
      "--socket <path>",
      "xenstored unix socket (default: $XENSTORED_PATH or /var/run/xenstored/socket)",
    )
    .option("--grpc <host:port>", "use xenstored's gRPC API instead of the socket")
    .option("--nats <url>", "NATS server carrying watch events (with --grpc)")
    .option("--domid <n>", "act for this domain (with --grpc)", "0");
  const conn = (): ConnOpts => xs.opts<ConnOpts>();

  xs.command("read <paths...>")
    .description("print the value of each path")
    .action((paths: string[]) =>
      run(conn(), async (c) => {
        for (const p of paths) process.stdout.write(`${await c.read(p)}\n`);
      }),
    );
  xs.command("write <pathValuePairs...>")
    .description("write PATH VALUE [PATH VALUE …]")
    .action((pairs: string[]) =>
      run(conn(), async (c) => {
        if (pairs.length % 2 !== 0) throw new Error("write takes PATH VALUE pairs");
        for (let i = 0; i < pairs.length; i += 2) await c.write(pairs[i]!, pairs[i + 1]!);
      }),
    );
  xs.command("ls [path]")
    .description("list the tree under path, with values (like xenstore-ls)")
    .action((path: string | undefined) =>
      run(conn(), async (c) => {
        const out: string[] = [];
        await listTree(c, path ?? "/", 0, out);
        if (out.length) process.stdout.write(`${out.join("\n")}\n`);
      }),
    );
  xs.command("list <path>")
    .description("list the children of path (like xenstore-list)")
    .action((path: string) =>
      run(conn(), async (c) => {
        for (const child of await c.ls(path)) process.stdout.write(`${child}\n`);
      }),
    );
  xs.command("mkdir <paths...>").action((paths: string[]) =>
    run(conn(), async (c) => {
      for (const p of paths) await c.mkdir(p);
    }),
  );
  xs.command("rm <paths...>")
    .description("remove paths and everything under them")
    .action((paths: string[]) =>
      run(conn(), async (c) => {
        for (const p of paths) await c.rm(p);
      }),
    );
  xs.command("exists <path>")
    .description("exit 0 if the path exists, 1 if not")
    .action((path: string) =>
      run(conn(), async (c) => {
        if (!(await c.exists(path))) process.exitCode = 1;
      }),
    );
  xs.command("chmod <path> <perms...>")
    .description("set permissions, owner first: chmod /a n0 r5 b7")
    .action((path: string, perms: string[]) => run(conn(), (c) => c.setPerms(path, perms)));
  xs.command("perms <path>")
    .description("print the permissions of a path")
    .action((path: string) =>
      run(conn(), async (c) => {
        process.stdout.write(`${(await c.getPerms(path)).join(" ")}\n`);
      }),
    );
  xs.command("watch <path>")
    .description("print PATH TOKEN for each watch event")
    .option("-n, --count <n>", "exit after this many events")
    .action((path: string, o: { count?: string }) =>
      run(conn(), async (c) => {
        const max = o.count === undefined ? Number.POSITIVE_INFINITY : Number(o.count);
        let n = 0;
        const w = await c.watch(path);
        for await (const ev of w) {
          process.stdout.write(`${ev.path} ${ev.token}\n`);
          if (++n >= max) break;
        }
      }),
    );
}
