// Test-only: compiles the generated header check against /usr/include/xen with gcc and reads back what
// the C compiler computed. x86_64 is linked and run; x86_32 is compiled only (-ffreestanding, no
// 32-bit libc needed) and its values are read from the object file's header check sections via objcopy.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { XenAbi } from "../layout.js";
import { BIT_CHECK_BYTES, type HeaderCheckUnit } from "../header-check/cgen.js";

export interface HeaderCheckValues {
  readonly nums: readonly bigint[];
  readonly bits: readonly Uint8Array[];
  readonly strs: readonly string[];
}

const COMMON = ["-std=gnu11", "-O0", "-w", "-I/usr/include"];
/** x86_64 is checked the way tools build (latest interface, tools-only macros visible). */
const ABI_FLAGS: Record<XenAbi, string[]> = {
  x86_64: ["-m64", "-D__XEN_TOOLS__"],
  // A 32-bit *guest* (no __XEN_TOOLS__: guest handles are plain 4-byte pointers).
  x86_32: ["-m32", "-ffreestanding", "-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__"],
};

function run(cmd: string, args: string[], cwd: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** Why the toolchain cannot check `abi` against its headers here, or undefined when it can. */
export function headerCheckUnavailable(abi: XenAbi): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "xensim-abi-avail-"));
  try {
    writeFileSync(
      join(dir, "t.c"),
      "#include <stdint.h>\n#include <stddef.h>\n#include <xen/xen.h>\nint x;\n",
    );
    const gcc = run("gcc", [...COMMON, ...ABI_FLAGS[abi], "-c", "t.c", "-o", "t.o"], dir);
    if (!gcc.ok) return `gcc cannot compile Xen headers for ${abi}: ${gcc.out.trim().split("\n")[0]}`;
    const oc = run("objcopy", ["--version"], dir);
    if (!oc.ok) return "objcopy (binutils) not found";
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function section(obj: string, name: string, dir: string): Uint8Array {
  const out = join(dir, `${name.slice(1)}.bin`);
  execFileSync("objcopy", ["-O", "binary", "-j", name, obj, out], { cwd: dir });
  return new Uint8Array(readFileSync(out));
}

function compile(unit: HeaderCheckUnit, dir: string, extra: string[], output: string): void {
  writeFileSync(join(dir, "header-check.c"), unit.source);
  const r = run("gcc", [...COMMON, ...ABI_FLAGS[unit.abi], ...extra, "header-check.c", "-o", output], dir);
  if (!r.ok) throw new Error(`gcc failed for the ${unit.abi} header check:\n${r.out}`);
}

/** Values from the header check sections of a compiled (not linked) object. */
export function readHeaderCheckObject(unit: HeaderCheckUnit): HeaderCheckValues {
  const dir = mkdtempSync(join(tmpdir(), `xensim-abi-${unit.abi}-`));
  try {
    compile(unit, dir, ["-c"], "header-check.o");
    const num = section("header-check.o", ".xensim_num", dir);
    const dv = new DataView(num.buffer, num.byteOffset, num.byteLength);
    const nums = unit.nums.map((_, i) => dv.getBigInt64(i * 8, true));
    const raw = section("header-check.o", ".xensim_bits", dir);
    const bits = unit.bits.map((_, i) => raw.slice(i * BIT_CHECK_BYTES, (i + 1) * BIT_CHECK_BYTES));
    return { nums, bits, strs: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Values printed by the linked and executed header check (x86_64, hosted). */
export function runHeaderCheck(unit: HeaderCheckUnit): HeaderCheckValues {
  const dir = mkdtempSync(join(tmpdir(), `xensim-abi-${unit.abi}-run-`));
  try {
    compile(unit, dir, ["-DXENSIM_CHECK_MAIN"], "header-check");
    const text = execFileSync(join(dir, "header-check"), { encoding: "utf8" });
    const nums: bigint[] = [];
    const bits: Uint8Array[] = [];
    const strs: string[] = [];
    for (const line of text.split("\n")) {
      const [tag, idx, val = ""] = line.split(" ");
      const i = Number(idx);
      if (tag === "N") nums[i] = BigInt(val);
      else if (tag === "B") bits[i] = Uint8Array.from(Buffer.from(val, "hex"));
      else if (tag === "S") strs[i] = Buffer.from(val, "hex").toString("latin1");
    }
    return { nums, bits, strs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
