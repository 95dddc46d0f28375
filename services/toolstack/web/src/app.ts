// The dashboard page: domains, disks and rings with charts, active faults (heal), event channels,
// the xenstore tree with live watch events, and the console and screen panels. Data comes from the
// toolstack's API (/dashboard/api/…, /faults) and one server-sent event stream.
import { type SeriesChart, seriesChart } from "./charts.js";

interface Domain {
  name: string;
  id: number;
  memMib: number;
  vcpus: number;
  state: string;
  time: number;
}
interface Disk {
  vdev: string;
  devid: number;
  backendState: string;
  frontendState: string;
  ringPages: number;
  queues: number;
  nbdUri?: string;
}
interface Guest {
  domid: number;
  state: string;
  workload?: { phase: string; iops: number; ios: number | string; errors: number | string };
}
interface DiskFigures {
  domid: number;
  devid: number;
  iops: number;
  latencyMeanMs: number | null;
  latencyP99Ms: number | null;
  occupancy: number | null;
  outstanding: number;
  ringSlots: number | null;
  notificationsSentPerS: number;
  notificationsSuppressedPerS: number;
  eventsReceivedPerS: number;
}
interface FaultStatus {
  target: string;
  components: Record<
    string,
    { seed: number; rules: { events?: unknown[]; calls?: unknown[] }; recordCount: number }
  >;
}
interface ChaosFault {
  id: number;
  kind: string;
  service: string;
  spec: object;
  setAt: number;
}
interface Stats {
  at: number;
  disks: DiskFigures[];
  faults: FaultStatus[];
  chaos?: ChaosFault[];
  guests?: Guest[];
}
interface TreeNode {
  name: string;
  path: string;
  value: string;
  children: TreeNode[];
  truncated?: boolean;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e as T;
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | number,
  attrs: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

const fmt = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? "–" : v.toFixed(digits);

let domains: Domain[] = [];
let disks: Array<{ domid: number; disks: Disk[] }> = [];
const guests = new Map<number, Guest>();
let figures: DiskFigures[] = [];
const charts = new Map<string, { iops: SeriesChart; latency: SeriesChart }>();

function renderDomains(): void {
  const body = $("domains").querySelector("tbody")!;
  body.replaceChildren(
    ...domains.map((d) => {
      const g = guests.get(d.id);
      const w = g?.workload;
      const tr = el("tr", undefined, { "data-domid": String(d.id) });
      tr.append(
        el("td", d.name),
        el("td", d.id, { class: "num" }),
        el("td", d.memMib, { class: "num" }),
        el("td", d.vcpus, { class: "num" }),
        el("td", d.state),
        el("td", d.time.toFixed(1), { class: "num" }),
        el("td", g?.state ?? (d.id === 0 ? "dom0" : "–")),
        el("td", w && w.phase !== "idle" ? `${w.phase} ${Math.round(w.iops)} IOPS, ${w.ios} I/Os` : "–"),
      );
      return tr;
    }),
  );
  const traceSel = $<HTMLSelectElement>("trace-domain");
  const traceKeep = traceSel.value;
  traceSel.replaceChildren(
    el("option", "all domains", { value: "" }),
    ...domains.map((d) => el("option", `${d.id} ${d.name}`, { value: String(d.id) })),
  );
  traceSel.value = domains.some((d) => String(d.id) === traceKeep) ? traceKeep : "";
  for (const id of ["evtchn-domain", "console-domain", "screen-domain"]) {
    const sel = $<HTMLSelectElement>(id);
    const keep = sel.value;
    sel.replaceChildren(...domains.map((d) => el("option", `${d.id} ${d.name}`, { value: String(d.id) })));
    if (domains.some((d) => String(d.id) === keep)) sel.value = keep;
    else if (domains.length > 1) sel.value = String(domains[1]!.id);
  }
}

function renderDisks(): void {
  const body = $("disks").querySelector("tbody")!;
  const rows: HTMLTableRowElement[] = [];
  for (const { domid, disks: list } of disks)
    for (const d of list) {
      const f = figures.find((x) => x.domid === domid && x.devid === d.devid);
      const occ = el("span", undefined, {
        class: "occupancy",
        title: f ? `${f.outstanding} of ${f.ringSlots ?? "?"} slots` : "",
      });
      const bar = el("span");
      bar.style.width = `${Math.min(100, Math.round((f?.occupancy ?? 0) * 100))}%`;
      occ.append(bar);
      const occCell = el("td");
      occCell.append(
        occ,
        ` ${f?.occupancy === null || f === undefined ? "–" : `${Math.round(f.occupancy * 100)}%`}`,
      );
      const tr = el("tr", undefined, { "data-disk": `${domid}/${d.vdev}` });
      tr.append(
        el("td", domid, { class: "num" }),
        el("td", d.vdev),
        el("td", `${d.frontendState}/${d.backendState}`),
        el("td", d.ringPages, { class: "num" }),
        el("td", d.queues, { class: "num" }),
        occCell,
        el("td", f ? Math.round(f.iops) : "–", { class: "num iops" }),
        el("td", f ? `${fmt(f.latencyMeanMs, 2)} / ${fmt(f.latencyP99Ms, 2)}` : "–", { class: "num" }),
        el("td", f ? Math.round(f.eventsReceivedPerS) : "–", { class: "num" }),
        el(
          "td",
          f ? `${Math.round(f.notificationsSentPerS)} (${Math.round(f.notificationsSuppressedPerS)})` : "–",
          { class: "num" },
        ),
        el("td", d.nbdUri || "–"),
      );
      rows.push(tr);
    }
  body.replaceChildren(...rows);
}

function updateCharts(at: number): void {
  const t = at / 1000;
  for (const f of figures) {
    const disk = disks.find((x) => x.domid === f.domid)?.disks.find((d) => d.devid === f.devid);
    const key = `${f.domid}/${f.devid}`;
    let c = charts.get(key);
    if (!c) {
      const name = `dom${f.domid} ${disk?.vdev ?? f.devid}`;
      c = {
        iops: seriesChart(`${name}: IOPS`, ["IOPS"], "IOPS"),
        latency: seriesChart(`${name}: completion latency`, ["mean", "p99"], "ms"),
      };
      c.iops.element.dataset.chart = `iops ${key}`;
      c.latency.element.dataset.chart = `latency ${key}`;
      $("charts").append(c.iops.element, c.latency.element);
      charts.set(key, c);
    }
    c.iops.push(t, [f.iops]);
    c.latency.push(t, [f.latencyMeanMs, f.latencyP99Ms]);
  }
}

function renderFaults(status: FaultStatus[]): void {
  const active = status.flatMap((s) =>
    Object.entries(s.components)
      .filter(([, c]) => (c.rules.events?.length ?? 0) + (c.rules.calls?.length ?? 0) > 0)
      .map(([component, c]) => ({ target: s.target, component, ...c })),
  );
  const box = $("faults");
  if (active.length === 0) {
    box.replaceChildren(el("p", "none", { class: "muted" }));
    return;
  }
  box.replaceChildren(
    ...active.map((a) => {
      const div = el("div", undefined, { class: "fault", "data-fault": `${a.target} ${a.component}` });
      const heal = el("button", "Heal", { type: "button" });
      heal.addEventListener("click", () => void heal_(a.target, a.component));
      div.append(
        el("strong", `${a.target} · ${a.component}`),
        el("span", ` seed ${a.seed}, ${a.recordCount} fired `, { class: "muted" }),
        heal,
        el("br"),
        el("code", JSON.stringify({ events: a.rules.events, calls: a.rules.calls })),
      );
      return div;
    }),
  );
}

/** The one fault API's faults (xensim chaos set, chaos run), each with its own Heal. */
function renderChaos(faults: ChaosFault[]): void {
  const box = $("chaos-faults");
  if (faults.length === 0) {
    box.replaceChildren(el("p", "none", { class: "muted" }));
    return;
  }
  box.replaceChildren(
    ...faults.map((f) => {
      const div = el("div", undefined, { class: "fault", "data-chaos-fault": `${f.id} ${f.kind}` });
      const heal = el("button", "Heal", { type: "button" });
      heal.addEventListener("click", () => void healChaos(f.id));
      div.append(
        el("strong", `${f.kind} · ${f.service}`),
        el("span", ` #${f.id} since ${new Date(f.setAt).toLocaleTimeString()} `, { class: "muted" }),
        heal,
        el("br"),
        el("code", JSON.stringify(f.spec)),
      );
      return div;
    }),
  );
}

async function healChaos(id?: number): Promise<void> {
  await fetch(id === undefined ? "/chaos/faults" : `/chaos/faults?id=${id}`, { method: "DELETE" });
  renderChaos((await getJson<{ faults: ChaosFault[] }>("/chaos/faults")).faults);
}

async function heal_(target?: string, component?: string): Promise<void> {
  const q = new URLSearchParams();
  if (target) q.set("target", target);
  if (component) q.set("component", component);
  await fetch(`/faults?${q}`, { method: "DELETE" });
  renderFaults((await getJson<{ services: FaultStatus[] }>("/faults")).services);
}

function treeNode(n: TreeNode): HTMLElement {
  if (n.children.length === 0) {
    const leaf = el("div", `${n.name} = "${n.value}"`, { class: "leaf", "data-path": n.path });
    return leaf;
  }
  const d = el("details", undefined, { "data-path": n.path });
  if (n.path.split("/").length <= 4) d.open = true;
  const s = el("summary", n.value ? `${n.name} = "${n.value}"` : n.name);
  d.append(s, ...n.children.map(treeNode));
  if (n.truncated) d.append(el("div", "… (more)", { class: "leaf muted" }));
  return d;
}

async function loadTree(): Promise<void> {
  const path = $<HTMLInputElement>("xs-path").value || "/";
  try {
    const tree = await getJson<TreeNode>(`/dashboard/api/xenstore?path=${encodeURIComponent(path)}`);
    $("xs-tree").replaceChildren(treeNode(tree));
  } catch (e) {
    $("xs-tree").replaceChildren(el("p", String(e), { class: "muted" }));
  }
}

function onXenstore(ev: { path: string; value: string | null }): void {
  const list = $("xs-events");
  const li = el(
    "li",
    `${new Date().toLocaleTimeString()} ${ev.path} ${ev.value === null ? "(removed)" : `= "${ev.value}"`}`,
  );
  list.prepend(li);
  while (list.children.length > 200) list.lastChild?.remove();
  const node = $("xs-tree").querySelector(`[data-path="${CSS.escape(ev.path)}"]`);
  if (node && ev.value !== null) {
    const name = ev.path.slice(ev.path.lastIndexOf("/") + 1);
    const target = node.tagName === "DETAILS" ? node.querySelector("summary")! : node;
    target.textContent = ev.value ? `${name} = "${ev.value}"` : name;
    target.classList.add("flash");
    setTimeout(() => target.classList.remove("flash"), 800);
  }
}

async function loadEvtchn(): Promise<void> {
  const id = $<HTMLSelectElement>("evtchn-domain").value;
  if (!id) return;
  const body = $("evtchn").querySelector("tbody")!;
  try {
    const r = await getJson<{
      ports: Array<{
        port: number;
        status: string;
        vcpu: number;
        remoteDomid?: number;
        remotePort?: number;
        virq?: number;
      }>;
    }>(`/dashboard/api/domains/${id}/evtchn`);
    body.replaceChildren(
      ...r.ports.map((p) => {
        const tr = el("tr");
        const remote =
          p.remotePort !== undefined
            ? `dom${p.remoteDomid}:${p.remotePort}`
            : p.remoteDomid !== undefined
              ? `dom${p.remoteDomid}`
              : p.virq !== undefined
                ? `virq ${p.virq}`
                : "–";
        tr.append(
          el("td", p.port, { class: "num" }),
          el("td", p.status),
          el("td", p.vcpu, { class: "num" }),
          el("td", remote),
        );
        return tr;
      }),
    );
  } catch (e) {
    body.replaceChildren(el("tr", String(e)));
  }
}

/** The console and screen panels: whatever the host's provider serves, or "not available". */
async function loadPanels(): Promise<void> {
  const { panels } = await getJson<{ panels: Array<{ name: string; available: boolean }> }>(
    "/dashboard/api/panels",
  );
  for (const p of panels) {
    const box = $(p.name);
    const id = $<HTMLSelectElement>(`${p.name}-domain`).value;
    if (!p.available || !id) {
      box.textContent = "not available";
      box.className = "muted";
      continue;
    }
    const r = await fetch(`/dashboard/api/domains/${id}/${p.name}`);
    if (!r.ok) {
      box.textContent = `not available (${r.status})`;
      box.className = "muted";
    } else if (p.name === "console") {
      box.textContent = await r.text();
      box.className = "";
    } else {
      const img = el("img", undefined, { alt: `screen of domain ${id}` });
      img.src = URL.createObjectURL(await r.blob());
      box.replaceChildren(img);
      box.className = "";
    }
  }
}

async function refresh(): Promise<void> {
  const snap = await getJson<{
    domains: Domain[];
    disks: Array<{ domid: number; disks: Disk[] }>;
    guests: Guest[];
  }>("/dashboard/api/snapshot");
  domains = snap.domains;
  disks = snap.disks;
  for (const g of snap.guests) guests.set(g.domid, g);
  renderDomains();
  renderDisks();
}

function connect(): void {
  const live = $("live");
  const es = new EventSource("/dashboard/api/events");
  es.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "badge";
  });
  es.addEventListener("error", () => {
    live.textContent = "reconnecting";
    live.className = "badge off";
  });
  es.addEventListener("xenstore", (m) => onXenstore(JSON.parse((m as MessageEvent<string>).data)));
  es.addEventListener("stats", (m) => {
    const s = JSON.parse((m as MessageEvent<string>).data) as Stats;
    if (s.at === 0) return;
    figures = s.disks;
    for (const g of s.guests ?? []) guests.set(g.domid, g);
    renderFaults(s.faults);
    renderChaos(s.chaos ?? []);
    renderDisks();
    renderDomains();
    updateCharts(s.at);
    $("clock").textContent = new Date(s.at).toLocaleTimeString();
  });
}

// ---- protocol trace: off until Start (tracing costs the services something only while on)

interface TraceEvent {
  kind: string;
  op: string;
  domid: number;
  peer?: number;
  t: number;
  wall: number;
  host: string;
  svc: string;
  [field: string]: unknown;
}

const TRACE_ENVELOPE = new Set(["t", "wall", "host", "svc", "seq", "kind", "op", "domid", "peer"]);
const TRACE_KEEP = 400;
let traceSource: EventSource | undefined;
let traceSeen = 0;

function traceLine(e: TraceEvent): HTMLLIElement {
  const fields = Object.entries(e)
    .filter(([k]) => !TRACE_ENVELOPE.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const time = new Date(e.wall).toISOString().slice(11, 23);
  const doms = e.peer !== undefined ? `d${e.domid}>d${e.peer}` : `d${e.domid}`;
  return el(
    "li",
    `${time} ${`${e.host}/${e.svc}`.padEnd(16)} ${e.kind.padEnd(6)} ${e.op.padEnd(11)} ${doms.padEnd(7)} ${fields}`,
    {
      class: `k-${e.kind}`,
    },
  );
}

function stopTrace(): void {
  traceSource?.close();
  traceSource = undefined;
  $("trace-toggle").textContent = "Start";
}

function startTrace(): void {
  stopTrace();
  const q = new URLSearchParams();
  const domain = $<HTMLSelectElement>("trace-domain").value;
  const kind = $<HTMLSelectElement>("trace-kind").value;
  if (domain) q.set("domain", domain);
  if (kind) q.set("kind", kind);
  const list = $("trace-events");
  list.replaceChildren();
  traceSeen = 0;
  $("trace-count").textContent = "starting";
  const es = new EventSource(`/dashboard/api/trace?${q}`);
  traceSource = es;
  $("trace-toggle").textContent = "Stop";
  es.addEventListener("ready", () => ($("trace-count").textContent = "tracing"));
  es.addEventListener("trace", (m) => {
    const batch = JSON.parse((m as MessageEvent<string>).data) as Array<TraceEvent | { dropped: number }>;
    for (const e of batch) {
      if ("dropped" in e) list.append(el("li", `… ${e.dropped} events dropped`, { class: "muted" }));
      else list.append(traceLine(e));
      traceSeen++;
    }
    while (list.childElementCount > TRACE_KEEP) list.firstElementChild!.remove();
    list.scrollTop = list.scrollHeight;
    $("trace-count").textContent = `${traceSeen} events`;
  });
}

function main(): void {
  $("trace-toggle").addEventListener("click", () => (traceSource ? stopTrace() : startTrace()));
  for (const id of ["trace-domain", "trace-kind"])
    $(id).addEventListener("change", () => {
      if (traceSource) startTrace();
    });
  $("heal-all").addEventListener("click", () => {
    void heal_();
    void healChaos();
  });
  $("xs-path").addEventListener("change", () => void loadTree());
  $("evtchn-domain").addEventListener("change", () => void loadEvtchn());
  for (const p of ["console", "screen"]) $(`${p}-domain`).addEventListener("change", () => void loadPanels());
  connect();
  void refresh().then(() => Promise.all([loadTree(), loadEvtchn(), loadPanels()]));
  setInterval(() => void refresh().catch(() => {}), 2000);
  setInterval(() => void loadEvtchn().catch(() => {}), 5000);
  setInterval(() => void loadPanels().catch(() => {}), 5000);
}

main();
