// CONTROL (tools/xenstored/control.c), privileged only: check, print, quota, quota-soft, help; and
// GET_QUOTA / SET_QUOTA (domain.c do_get_quota, do_set_quota), also privileged only.

import { cAtoi } from "./bytes.js";
import { quotaUsage } from "./accounting.js";
import { XsError } from "./errors.js";
import { OK_PAYLOAD, padColumn, parseDomid, payloadStrings, textReply } from "./payload.js";
import { QUOTA_NAMES, type Quotas } from "./quota.js";
import type { Request } from "./request.js";
import type { DomainQuotas, EngineState } from "./state.js";
import { isChild } from "./path.js";
import { checkTree } from "./tree.js";

const CONTROL_HELP: readonly [string, string][] = [
  ["check", ""],
  ["print", "<string>"],
  ["quota", "[set <name> <val>|<domid>]"],
  ["quota-soft", "[set <name> <val>]"],
  ["watches", "[<path>]"],
  ["help", ""],
];

export function handleControl(req: Request, payload: Uint8Array): Uint8Array {
  const strings = payloadStrings(payload);
  if (strings.length === 0) throw new XsError("EINVAL");
  const command = strings[0]!;
  const args = strings.slice(1);
  const state = req.state;
  switch (command) {
    case "check":
      if (args.length) throw new XsError("EINVAL");
      if (checkTree(state.main).length) throw new XsError("EIO", "store inconsistent");
      return OK_PAYLOAD;
    case "print":
      if (args.length !== 1) throw new XsError("EINVAL");
      return OK_PAYLOAD;
    case "quota":
      if (args.length === 0) return textReply(quotaSettings(state, false));
      if (args[0] === "set") return quotaSet(state, args.slice(1), false);
      if (args.length !== 1) throw new XsError("EINVAL");
      return textReply(domainQuotaReport(state, cAtoi(args[0]!)));
    case "quota-soft":
      if (args.length === 0) return textReply(quotaSettings(state, true));
      if (args[0] === "set") return quotaSet(state, args.slice(1), true);
      throw new XsError("EINVAL");
    case "watches":
      // xensim's addition (leak audits): every registered watch on or below <path>, one a line
      // "<domid> <path> <token>"; Xen's xenstored has no command that lists its watch table
      if (args.length > 1) throw new XsError("EINVAL");
      return textReply(watchTable(state, args[0]));
    case "help":
      if (args.length) throw new XsError("EINVAL");
      return textReply(CONTROL_HELP.map(([c, params]) => `${padColumn(c, 15, true)} ${params}\n`).join(""));
    default:
      throw new XsError("EINVAL", "unknown control command");
  }
}

function watchTable(state: EngineState, under: string | undefined): string {
  let text = "";
  for (const c of state.connections.values())
    for (const w of c.watches)
      if (under === undefined || isChild(w.node, under, -1)) text += `${c.domid} ${w.node} ${w.token}\n`;
  return text;
}

function quotaSettings(state: EngineState, soft: boolean): string {
  let text = "Quota settings:\n";
  for (const q of QUOTA_NAMES) {
    if (soft && q.key !== "memory") continue;
    const value = soft ? state.softMemoryQuota : state.quotas[q.key];
    text += `${padColumn(q.name, 17, true)}: ${padColumn(String(value), 8)} ${q.descr}\n`;
  }
  return text;
}

function quotaSet(state: EngineState, args: string[], soft: boolean): Uint8Array {
  if (args.length !== 2) throw new XsError("EINVAL");
  const value = cAtoi(args[1]!);
  if (value < 1) throw new XsError("EINVAL");
  const q = QUOTA_NAMES.find((x) => x.name === args[0]);
  if (!q || (soft && q.key !== "memory")) throw new XsError("EINVAL");
  if (soft) state.softMemoryQuota = value;
  else state.quotas[q.key] = value;
  return OK_PAYLOAD;
}

/** A domain the store knows of: introduced, owning nodes, connected, or with quotas of its own. */
function knownDomain(state: EngineState, domid: number): boolean {
  return (
    state.domains.has(domid) ||
    state.main.count(domid) > 0 ||
    state.domainQuotas.has(domid) ||
    [...state.connections.values()].some((c) => c.domid === domid)
  );
}

/** A quota name of GET_QUOTA / SET_QUOTA: a quota_adm[] name, or "soft-memory". */
function parseQuotaName(name: string): keyof DomainQuotas {
  if (name === "soft-memory") return "softMemory";
  const q = QUOTA_NAMES.find((x) => x.name === name);
  if (!q) throw new XsError("EINVAL", `unknown quota ${name}`);
  return q.key;
}

/** Quota names for a GET_QUOTA without arguments, hard ones and the soft memory quota, as C lists them. */
const QUOTA_LIST = QUOTA_NAMES.flatMap((q) => (q.key === "memory" ? [q.name, "soft-memory"] : [q.name])).join(
  " ",
);

function quotaValue(state: EngineState, domid: number | undefined, key: keyof DomainQuotas): number {
  if (key === "softMemory")
    return domid === undefined ? state.softMemoryQuota : state.softMemoryQuotaOf(domid);
  return domid === undefined ? state.quotas[key] : state.quotaOf(domid, key);
}

/** GET_QUOTA [[domid\0]name\0]: the names of all quotas, or one value (global or of a domain). */
export function handleGetQuota(req: Request, payload: Uint8Array): Uint8Array {
  const strings = payloadStrings(payload);
  if (strings.length > 2) throw new XsError("EINVAL");
  if (strings.length === 0) return textReply(QUOTA_LIST);
  const state = req.state;
  let domid: number | undefined;
  if (strings.length === 2) {
    domid = parseDomid(strings[0]!);
    if (!knownDomain(state, domid)) throw new XsError("ENOENT");
  }
  const key = parseQuotaName(strings[strings.length - 1]!);
  return textReply(String(quotaValue(state, domid, key)));
}

/** SET_QUOTA [domid\0]name\0value\0: "0" (disabling) is refused, as C xenstored does. */
export function handleSetQuota(req: Request, payload: Uint8Array): Uint8Array {
  const strings = payloadStrings(payload);
  if (strings.length < 2 || strings.length > 3) throw new XsError("EINVAL");
  const state = req.state;
  let domid: number | undefined;
  if (strings.length === 3) {
    domid = parseDomid(strings[0]!);
    if (!knownDomain(state, domid)) throw new XsError("ENOENT");
  }
  const key = parseQuotaName(strings[strings.length - 2]!);
  const value = cAtoi(strings[strings.length - 1]!) >>> 0;
  if (value === 0) throw new XsError("EINVAL");
  if (domid === undefined) {
    if (key === "softMemory") state.softMemoryQuota = value;
    else state.quotas[key] = value;
  } else {
    const own = state.domainQuotas.get(domid) ?? {};
    own[key] = value;
    state.domainQuotas.set(domid, own);
  }
  return OK_PAYLOAD;
}

function domainQuotaReport(state: EngineState, domid: number): string {
  if (!knownDomain(state, domid)) throw new XsError("ENOENT");
  const usage = quotaUsage(state, domid);
  const values: Partial<Record<keyof Quotas, number>> = {
    nodes: usage.nodes,
    watches: usage.watches,
    memory: usage.memory,
    transactions: usage.transactions,
  };
  let text = `Domain ${domid}:\n`;
  for (const q of QUOTA_NAMES) {
    const value = String(values[q.key] ?? 0);
    text += `${padColumn(q.name, 17, true)}: ${padColumn(value, 8)} (max ${padColumn(value, 8)})\n`;
  }
  return text;
}
