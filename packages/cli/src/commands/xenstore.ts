// `xensim xenstore …`: client commands in the spirit of the xenstore-* tools.
import { connectXenstore, defaultXenstoredPath, type XenstoreClient } from "@xensim/xenstore-client";
import type { Command } from "commander";
import { examples } from "../command.js";
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
  const socket = opts.socket ?? defaultXenstoredPath();
  const client = await connectXenstore({ socket, reconnect: false }).catch((e: NodeJS.ErrnoException) => {
    throw new Error(
      `cannot reach xenstored at ${socket} (${e.code ?? e.message}).\n` +
        "Start a host with `npx xensim up` (its xenstored listens on .xensim/xenstored.sock) or " +
        "`npx xensim xenstored --socket PATH`, then pass --socket PATH or set XENSTORED_PATH.",
    );
  });
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
    .addHelpText(
      "after",
      examples(
        "npx xensim xenstore --socket .xensim/xenstored.sock ls /local/domain",
        "npx xensim xenstore --grpc 127.0.0.1:PORT --nats nats://127.0.0.1:4222 watch /vm -n 1",
      ),
    )
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
    .addHelpText(
      "after",
      examples("npx xensim xenstore --socket .xensim/xenstored.sock read /local/domain/1/name"),
    )
    .description("print the value of each path")
    .action((paths: string[]) =>
      run(conn(), async (c) => {
        for (const p of paths) process.stdout.write(`${await c.read(p)}\n`);
      }),
    );
  xs.command("write <pathValuePairs...>")
    .addHelpText(
      "after",
      examples("npx xensim xenstore --socket /tmp/xs.sock write /vm/demo/name hello /vm/demo/memory 64"),
    )
    .description("write PATH VALUE [PATH VALUE …]")
    .action((pairs: string[]) =>
      run(conn(), async (c) => {
        if (pairs.length % 2 !== 0) throw new Error("write takes PATH VALUE pairs");
        for (let i = 0; i < pairs.length; i += 2) await c.write(pairs[i]!, pairs[i + 1]!);
      }),
    );
  xs.command("ls [path]")
    .addHelpText(
      "after",
      examples("npx xensim xenstore --socket .xensim/xenstored.sock ls /local/domain/1/device"),
    )
    .description("list the tree under path, with values (like xenstore-ls)")
    .action((path: string | undefined) =>
      run(conn(), async (c) => {
        const out: string[] = [];
        await listTree(c, path ?? "/", 0, out);
        if (out.length) process.stdout.write(`${out.join("\n")}\n`);
      }),
    );
  xs.command("list <path>")
    .addHelpText("after", examples("npx xensim xenstore --socket .xensim/xenstored.sock list /local/domain"))
    .description("list the children of path (like xenstore-list)")
    .action((path: string) =>
      run(conn(), async (c) => {
        for (const child of await c.ls(path)) process.stdout.write(`${child}\n`);
      }),
    );
  xs.command("mkdir <paths...>")
    .description("create empty nodes (and their missing parents)")
    .addHelpText("after", examples("npx xensim xenstore --socket /tmp/xs.sock mkdir /vm/demo"))
    .action((paths: string[]) =>
      run(conn(), async (c) => {
        for (const p of paths) await c.mkdir(p);
      }),
    );
  xs.command("rm <paths...>")
    .addHelpText("after", examples("npx xensim xenstore --socket /tmp/xs.sock rm /vm/demo"))
    .description("remove paths and everything under them")
    .action((paths: string[]) =>
      run(conn(), async (c) => {
        for (const p of paths) await c.rm(p);
      }),
    );
  xs.command("exists <path>")
    .addHelpText("after", examples("npx xensim xenstore --socket /tmp/xs.sock exists /vm/demo && echo yes"))
    .description("exit 0 if the path exists, 1 if not")
    .action((path: string) =>
      run(conn(), async (c) => {
        if (!(await c.exists(path))) process.exitCode = 1;
      }),
    );
  xs.command("chmod <path> <perms...>")
    .addHelpText("after", examples("npx xensim xenstore --socket /tmp/xs.sock chmod /vm/demo n0 r1"))
    .description("set permissions, owner first: chmod /a n0 r5 b7")
    .action((path: string, perms: string[]) => run(conn(), (c) => c.setPerms(path, perms)));
  xs.command("perms <path>")
    .addHelpText("after", examples("npx xensim xenstore --socket /tmp/xs.sock perms /vm/demo"))
    .description("print the permissions of a path")
    .action((path: string) =>
      run(conn(), async (c) => {
        process.stdout.write(`${(await c.getPerms(path)).join(" ")}\n`);
      }),
    );
  xs.command("watch <path>")
    .addHelpText("after", examples("npx xensim xenstore --socket /tmp/xs.sock watch /vm -n 2"))
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
