// The hypervisor's domain table on disk (issue 14, one truth after a restart): the domids it has,
// rewritten (write + rename) whenever one is created, dies or is cleaned away. A restarted
// hypervisor reads it back: those domains are gone with the old page store, so it marks them lost
// (no domid of theirs is handed out again until the toolstack has cleaned their xenstore nodes and
// devices away and destroyed them) and reports each one dead.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface DomainTableFile {
  version: 1;
  /** Which run of the hypervisor wrote it (ms since the epoch at its start). */
  startedAt: number;
  /** Domains that run had (dom0 excluded), and those it still had as lost from an earlier run. */
  domids: number[];
}

export class DomainTable {
  private readonly path: string;
  private last = "";

  constructor(
    dir: string,
    private readonly startedAt: number,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, "domains.json");
  }

  /** The previous run's domids (empty when there was none or the file is unreadable). */
  previous(): number[] {
    try {
      const f = JSON.parse(readFileSync(this.path, "utf8")) as DomainTableFile;
      return Array.isArray(f.domids) ? f.domids.filter((d) => Number.isInteger(d) && d > 0) : [];
    } catch {
      return [];
    }
  }

  /** Writes the table when it changed (synchronously: a create is on disk before it is answered). */
  save(domids: readonly number[]): void {
    const list = [...new Set(domids)].filter((d) => d !== 0).sort((a, b) => a - b);
    const text = JSON.stringify({
      version: 1,
      startedAt: this.startedAt,
      domids: list,
    } satisfies DomainTableFile);
    if (text === this.last) return;
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${text}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    this.last = text;
  }
}
