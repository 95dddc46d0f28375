// The command tree: every command's help has an example, unknown commands and flags get the
// closest suggestion, and the committed launcher runs the built command.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { Command } from "commander";
import { registerAll } from "./command.js";
import * as commands from "./commands/registry.js";
import { distributedHints } from "./commands/up.js";

const LAUNCHER = fileURLToPath(new URL("../bin/xensim.js", import.meta.url));

function xensim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [LAUNCHER, ...args], { encoding: "utf8", timeout: 30_000 });
}

function walk(cmd: Command, path: string[], out: Array<{ path: string[]; cmd: Command }>): void {
  for (const c of cmd.commands) {
    out.push({ path: [...path, c.name()], cmd: c });
    walk(c, [...path, c.name()], out);
  }
}

test("every command has a description and --help with an example", () => {
  const program = new Command().name("xensim");
  registerAll(program, commands);
  const all: Array<{ path: string[]; cmd: Command }> = [];
  walk(program, [], all);
  assert.ok(all.length >= 25, `${all.length} commands`);
  for (const { path, cmd } of all) {
    let text = "";
    cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    cmd.outputHelp();
    assert.ok(cmd.description().length > 0, `xensim ${path.join(" ")} has no description`);
    assert.match(text, /\nExamples?:\n {2}\$ npx xensim /, `xensim ${path.join(" ")} --help:\n${text}`);
    // the example runs the command it documents
    assert.ok(text.includes(`xensim ${path[0]}`), `xensim ${path.join(" ")}: example of another command`);
  }
});

test("the launcher runs the built command; unknown commands and flags suggest the closest", () => {
  const help = xensim("--help");
  assert.equal(help.status, 0, help.stderr);
  for (const c of ["up", "xl", "xenstore", "xenstored", "bench"])
    assert.match(help.stdout, new RegExp(`\\n  ${c} `));
  const cases: Array<[string[], RegExp]> = [
    [["xll"], /unknown command 'xll'\n\(Did you mean xl\?\)/],
    [["xl", "lst"], /unknown command 'lst'\n\(Did you mean list\?\)/],
    [["xenstore", "reed", "/x"], /\(Did you mean read\?\)/],
    [["bench", "ring"], /\(Did you mean rings\?\)/],
    [["up", "--exmples", "x"], /unknown option '--exmples'\n\(Did you mean --examples\?\)/],
    [["bench", "rings", "--jsn", "x"], /\(Did you mean --json\?\)/],
  ];
  for (const [args, want] of cases) {
    const r = xensim(...args);
    assert.notEqual(r.status, 0, args.join(" "));
    assert.match(r.stderr, want, `xensim ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /add --help for usage and examples/);
  }
});

test("errors say what to do next: the toolstack's and xenstored's address and how to start them", () => {
  const xl = xensim("xl", "--api", "http://127.0.0.1:9", "list");
  assert.equal(xl.status, 1);
  assert.match(xl.stderr, /cannot reach the toolstack at http:\/\/127\.0\.0\.1:9 /);
  assert.match(xl.stderr, /npx xensim up/);
  const xs = xensim("xenstore", "--socket", "/nonexistent/xs.sock", "read", "/x");
  assert.equal(xs.status, 1);
  assert.match(xs.stderr, /cannot reach xenstored at \/nonexistent\/xs\.sock \(ENOENT\)/);
  assert.match(xs.stderr, /--socket PATH or set XENSTORED_PATH/);
});

test("a bad --set names the services, and a bad key the closest and every valid key of that service", () => {
  const dir = mkdtempSync(join(tmpdir(), "xensim-cli-set-"));
  try {
    const svc = xensim("up", "--state-dir", dir, "--no-examples", "--set", "blkbak.x=1");
    assert.equal(svc.status, 1);
    assert.match(
      svc.stderr,
      /--set blkbak\.x=1: unknown service blkbak \(services: xenstored, hypervisor, .*blkback/,
    );
    const key = xensim(
      "up",
      "--state-dir",
      dir,
      "--no-examples",
      "--api-port",
      "0",
      "--exit-after-ready",
      "--services",
      "xenstored,hypervisor,blkback",
      "--set",
      "blkback.maxRingPageOrdr=3",
    );
    assert.equal(key.status, 1, key.stdout);
    assert.match(
      key.stderr,
      /Unrecognized key: "maxRingPageOrdr"; did you mean maxRingPageOrder\?; valid keys: .*maxQueues/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a distributed up names the gRPC addresses and the command of the next host process", () => {
  const services = new Map([
    ["hypervisor", { grpcAddress: "127.0.0.1:4001" }],
    ["xenstored", { grpcAddress: "127.0.0.1:4002" }],
    ["page-server", { grpcAddress: "127.0.0.1:4003" }],
  ]);
  const text = distributedHints({ hostId: "hostA", services }, "nats://127.0.0.1:4222");
  assert.match(
    text,
    /gRPC \(for other host processes\): hypervisor=127\.0\.0\.1:4001 xenstored=127\.0\.0\.1:4002/,
  );
  assert.match(
    text,
    /xensim up --nats nats:\/\/127\.0\.0\.1:4222 --services page-server,blkback --host-id <id> --set blkback\.hypervisorHost=hostA --set blkback\.hypervisor=127\.0\.0\.1:4001 --set blkback\.xenstored=127\.0\.0\.1:4002/,
  );
  assert.equal(distributedHints({ hostId: "b", services: new Map([["blkback", {}]]) }, "nats://x"), "");
});
