// xenstored's state on disk: a snapshot plus an append-only journal of committed mutations.
//
// Every reply that acknowledges a change is sent only after the change's journal record has been
// handed to the kernel (write(2)), so a `kill -9` of xenstored loses nothing it acknowledged; with
// `fsync: true` each record is also flushed to the device (power-loss safe, slower).
// Layout of the state directory:
//   snapshot.json   { version, seq, snapshot }   written to a temp file, fsynced, renamed
//   journal.jsonl   one record per line: { seq, m: [mutation…] }; records with seq <= snapshot.seq
//                   are already in the snapshot; a torn last line (crash mid-write) is ignored.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Mutation, XenstoreSnapshot } from "@xensim/xenstore";

const FORMAT_VERSION = 1;

type SetMutation = Extract<Mutation, { op: "set" }>;
/** A mutation as stored in the journal: node values in base64, everything else as is. */
type JournalMutation = (Omit<SetMutation, "value"> & { value: string }) | Exclude<Mutation, SetMutation>;

function encodeMutation(m: Mutation): JournalMutation {
  if (m.op === "set")
    return { op: "set", path: m.path, value: Buffer.from(m.value).toString("base64"), perms: m.perms };
  return m as JournalMutation;
}
function decodeMutation(j: JournalMutation): Mutation {
  if (j.op === "set")
    return { op: "set", path: j.path, value: new Uint8Array(Buffer.from(j.value, "base64")), perms: j.perms };
  return j as Mutation;
}

export interface StateStoreOptions {
  dir: string;
  /** fsync every journal record (default false: survives process death, not power loss). */
  fsync?: boolean;
  /** Compact into a new snapshot after this many journal records (default 20000). */
  compactEvery?: number;
}

export interface LoadedState {
  snapshot: XenstoreSnapshot | null;
  /** Mutations to replay on top of the snapshot, in order. */
  journal: Mutation[];
  /** Records skipped because the journal's last line was torn. */
  tornRecords: number;
}

export class StateStore {
  readonly dir: string;
  private readonly fsync: boolean;
  private readonly compactEvery: number;
  private journalFd = -1;
  private seq = 0;
  private recordsSinceSnapshot = 0;
  /** The journal did not end with a newline: the next append would be glued onto its last line. */
  private unterminatedTail = false;

  constructor(opts: StateStoreOptions) {
    this.dir = opts.dir;
    this.fsync = opts.fsync ?? false;
    this.compactEvery = opts.compactEvery ?? 20000;
    mkdirSync(this.dir, { recursive: true });
  }

  private get snapshotPath(): string {
    return join(this.dir, "snapshot.json");
  }
  private get journalPath(): string {
    return join(this.dir, "journal.jsonl");
  }

  /** Reads snapshot and journal. Call once, before `open()`. */
  load(): LoadedState {
    let snapshot: XenstoreSnapshot | null = null;
    let snapSeq = 0;
    if (existsSync(this.snapshotPath)) {
      const s = JSON.parse(readFileSync(this.snapshotPath, "utf8")) as {
        version: number;
        seq: number;
        snapshot: XenstoreSnapshot;
      };
      if (s.version !== FORMAT_VERSION) throw new Error(`state: unsupported snapshot version ${s.version}`);
      snapshot = s.snapshot;
      snapSeq = s.seq;
    }
    const journal: Mutation[] = [];
    let tornRecords = 0;
    this.seq = snapSeq;
    if (existsSync(this.journalPath)) {
      const text = readFileSync(this.journalPath, "utf8");
      this.unterminatedTail = text.length > 0 && !text.endsWith("\n");
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line === "") continue;
        let rec: { seq: number; m: JournalMutation[] };
        try {
          rec = JSON.parse(line);
        } catch {
          // Only the last line can be torn by a crash; anything else is corruption.
          if (i >= lines.length - 2) {
            tornRecords++;
            continue;
          }
          throw new Error(`state: journal line ${i + 1} is corrupt`);
        }
        if (rec.seq <= snapSeq) continue;
        for (const m of rec.m) journal.push(decodeMutation(m));
        this.seq = rec.seq;
        this.recordsSinceSnapshot++;
      }
    }
    return { snapshot, journal, tornRecords };
  }

  /**
   * Opens the journal for appending. A torn tail is cut off first by rewriting a clean snapshot; so
   * is a last record that lost only its newline (appending after it would glue two records into one
   * line, which the next load would take for a torn tail and drop).
   */
  open(current: () => XenstoreSnapshot, hadTornTail: boolean): void {
    if (hadTornTail || this.unterminatedTail) this.compact(current());
    this.unterminatedTail = false;
    // compact() leaves the fresh journal open already.
    if (this.journalFd < 0) this.journalFd = openSync(this.journalPath, "a");
  }

  /** Appends one record; returns after the kernel has it (and the device, with fsync). */
  append(mutations: readonly Mutation[]): void {
    if (mutations.length === 0) return;
    if (this.journalFd < 0) throw new Error("state: journal not open");
    this.seq++;
    const line = `${JSON.stringify({ seq: this.seq, m: mutations.map(encodeMutation) })}\n`;
    const buf = Buffer.from(line);
    let off = 0;
    while (off < buf.length) off += writeSync(this.journalFd, buf, off);
    if (this.fsync) fsyncSync(this.journalFd);
    this.recordsSinceSnapshot++;
  }

  /** True when the journal is long enough that a new snapshot should be written. */
  shouldCompact(): boolean {
    return this.recordsSinceSnapshot >= this.compactEvery;
  }

  /** Writes a snapshot of the current tree and starts an empty journal. */
  compact(snapshot: XenstoreSnapshot): void {
    const tmp = `${this.snapshotPath}.tmp`;
    const fd = openSync(tmp, "w");
    const buf = Buffer.from(JSON.stringify({ version: FORMAT_VERSION, seq: this.seq, snapshot }));
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.snapshotPath);
    // Records up to `seq` are in the snapshot now; start a fresh journal.
    if (this.journalFd >= 0) closeSync(this.journalFd);
    this.journalFd = openSync(this.journalPath, "w");
    this.recordsSinceSnapshot = 0;
  }

  close(): void {
    if (this.journalFd >= 0) {
      if (this.fsync) fsyncSync(this.journalFd);
      closeSync(this.journalFd);
      this.journalFd = -1;
    }
  }
}
