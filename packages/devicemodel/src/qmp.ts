// QMP, the QEMU Machine Protocol, as libxl talks it to qemu-xen over its per-guest unix socket: the
// server greets with `{"QMP": {version, capabilities}}`, the client must send `qmp_capabilities`
// first, then commands `{"execute": name, "arguments"?: {...}, "id"?: any}` are answered
// `{"return": ..., "id"?}` or `{"error": {"class", "desc"}, "id"?}`, and asynchronous events
// `{"event", "data"?, "timestamp": {seconds, microseconds}}` go to every negotiated session. A
// protocol core: the transport (a socket) and the machine behind it (`QmpBackend`) are injected;
// `QmpStream` splits a byte stream into JSON values (QMP does not need newlines between them).

/** What the commands act on (the service: the guest's vCPUs, its emulator). */
export interface QmpBackend {
  /** `query-status`: whether the guest runs. */
  running(): boolean;
  /** `stop`: pause the guest's vCPUs. Resolves when they are paused. */
  stop(): Promise<void>;
  /** `cont`: let them run again. */
  cont(): Promise<void>;
  /** `system_reset`: reset the devices and ask Xen for a reboot (QEMU: SHUTDOWN_reboot). */
  systemReset(): Promise<void>;
  /** `query-chardev`. */
  chardevs(): { label: string; filename: string; frontendOpen: boolean }[];
  /** `query-pci`: bus 0's functions. */
  pciDevices(): {
    bus: number;
    slot: number;
    function: number;
    vendor: number;
    device: number;
    classCode: number;
    irq?: number;
  }[];
}

export type QmpEventName = "STOP" | "RESUME" | "RESET";

export interface QmpEvent {
  event: QmpEventName;
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** The version qemu-xen reports (what libxl reads from the greeting). */
export const QMP_VERSION = Object.freeze({ qemu: { major: 8, minor: 0, micro: 0 }, package: "xensim" });

export function qmpGreeting(): { QMP: { version: typeof QMP_VERSION; capabilities: string[] } } {
  return { QMP: { version: QMP_VERSION, capabilities: [] } };
}

export function qmpEvent(event: QmpEventName, nowMs: number, data?: Record<string, unknown>): QmpEvent {
  const seconds = Math.floor(nowMs / 1000);
  return {
    event,
    ...(data ? { data } : {}),
    timestamp: { seconds, microseconds: Math.floor((nowMs - seconds * 1000) * 1000) },
  };
}

type Reply = { return: unknown; id?: unknown } | { error: { class: string; desc: string }; id?: unknown };

const err = (cls: string, desc: string, id?: unknown): Reply => ({
  error: { class: cls, desc },
  ...(id !== undefined ? { id } : {}),
});

/** One client connection: capabilities negotiation, then commands. */
export class QmpSession {
  /** Commands are accepted (after `qmp_capabilities`); events go to negotiated sessions only. */
  negotiated = false;

  constructor(
    private readonly backend: QmpBackend,
    /** Events the commands cause (the server sends them to every negotiated session). */
    private readonly emit: (e: QmpEventName, data?: Record<string, unknown>) => void,
  ) {}

  /** One JSON value the client sent (already parsed, or a parse error): the reply. */
  async handle(msg: unknown): Promise<Reply> {
    if (typeof msg !== "object" || msg === null || Array.isArray(msg))
      return err("GenericError", "QMP input must be a JSON object");
    const m = msg as Record<string, unknown>;
    const id = m["id"];
    const cmd = m["execute"];
    if (typeof cmd !== "string") return err("GenericError", "QMP input lacks member 'execute'", id);
    for (const k of Object.keys(m))
      if (k !== "execute" && k !== "arguments" && k !== "id")
        return err("GenericError", `QMP input member '${k}' is unexpected`, id);
    const args = m["arguments"];
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args)))
      return err("GenericError", "QMP input member 'arguments' must be an object", id);
    const ok = (value: unknown = {}): Reply => ({ return: value, ...(id !== undefined ? { id } : {}) });
    if (!this.negotiated) {
      if (cmd !== "qmp_capabilities")
        return err("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'", id);
      this.negotiated = true;
      return ok();
    }
    switch (cmd) {
      case "qmp_capabilities":
        return err("CommandNotFound", "Capabilities negotiation is already complete, command ignored", id);
      case "query-status": {
        const running = this.backend.running();
        return ok({ status: running ? "running" : "paused", singlestep: false, running });
      }
      case "stop":
        if (this.backend.running()) {
          await this.backend.stop();
          this.emit("STOP");
        }
        return ok();
      case "cont":
        if (!this.backend.running()) {
          await this.backend.cont();
          this.emit("RESUME");
        }
        return ok();
      case "system_reset":
        await this.backend.systemReset();
        this.emit("RESET", { guest: false, reason: "host-qmp-system-reset" });
        return ok();
      case "query-chardev":
        return ok(
          this.backend
            .chardevs()
            .map((c) => ({ label: c.label, filename: c.filename, "frontend-open": c.frontendOpen })),
        );
      case "query-pci":
        return ok([
          {
            bus: 0,
            devices: this.backend.pciDevices().map((d) => ({
              bus: d.bus,
              slot: d.slot,
              function: d.function,
              class_info: { class: d.classCode >> 8 },
              id: { vendor: d.vendor, device: d.device },
              ...(d.irq !== undefined ? { irq: d.irq } : {}),
              qdev_id: "",
              regions: [],
            })),
          },
        ]);
      case "query-commands":
        return ok(
          [
            "qmp_capabilities",
            "query-status",
            "stop",
            "cont",
            "system_reset",
            "query-chardev",
            "query-pci",
            "query-commands",
          ].map((name) => ({ name })),
        );
      default:
        return err("CommandNotFound", `The command ${cmd} has not been found`, id);
    }
  }
}

/**
 * Splits a QMP byte stream into JSON values: tracks braces and brackets outside strings; what is
 * between top-level values (whitespace, newlines) is skipped. A value that does not parse, or a
 * stray byte, gives an error entry (the session answers GenericError and goes on).
 */
export class QmpStream {
  private buf = "";
  private depth = 0;
  private inString = false;
  private escape = false;
  private start = -1;
  private scanned = 0;
  /** Longest value kept while incomplete (QEMU's parser limit is of the same order). */
  static readonly MAX_VALUE = 1 << 20;

  push(text: string): ({ value: unknown } | { error: string })[] {
    this.buf += text;
    const out: ({ value: unknown } | { error: string })[] = [];
    let i = this.scanned;
    for (; i < this.buf.length; i++) {
      const ch = this.buf[i]!;
      if (this.depth === 0) {
        if (ch === "{" || ch === "[") {
          this.start = i;
          this.depth = 1;
        } else if (!/\s/.test(ch)) out.push({ error: `JSON parse error, invalid token '${ch}'` });
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (ch === "\\") this.escape = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') this.inString = true;
      else if (ch === "{" || ch === "[") this.depth++;
      else if (ch === "}" || ch === "]") {
        this.depth--;
        if (this.depth === 0) {
          const text = this.buf.slice(this.start, i + 1);
          try {
            out.push({ value: JSON.parse(text) });
          } catch (e) {
            out.push({ error: `JSON parse error, ${(e as Error).message}` });
          }
          this.start = -1;
        }
      }
    }
    if (this.depth === 0) {
      this.buf = "";
      this.scanned = 0;
    } else {
      this.buf = this.buf.slice(this.start);
      this.scanned = this.buf.length;
      this.start = 0;
      if (this.buf.length > QmpStream.MAX_VALUE) {
        out.push({ error: "JSON parse error, value too long" });
        this.buf = "";
        this.scanned = 0;
        this.depth = 0;
        this.inString = false;
        this.escape = false;
      }
    }
    return out;
  }
}
