// The dashboard's page and styles. The page's script is web/src/app.ts, compiled by the project's
// build (tsc -b) into dist/web/; uPlot draws the charts. Everything is served by the toolstack: no CDN.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xensim host</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/uPlot.min.css">
<link rel="stylesheet" href="assets/dashboard.css">
<script src="assets/uPlot.iife.min.js"></script>
<script type="module" src="assets/app.js"></script>
</head>
<body>
<header>
  <h1>xensim host</h1>
  <span id="live" class="badge off" title="live updates (server-sent events)">connecting</span>
  <span id="clock"></span>
</header>
<main>
  <section id="domains-panel" class="panel wide">
    <h2>Domains</h2>
    <table id="domains"><thead><tr>
      <th>Name</th><th>ID</th><th>Mem (MiB)</th><th>VCPUs</th><th>State</th><th>Time (s)</th><th>Guest</th><th>Workload</th>
    </tr></thead><tbody></tbody></table>
  </section>
  <section id="disks-panel" class="panel wide">
    <h2>Disks and rings</h2>
    <table id="disks"><thead><tr>
      <th>Domain</th><th>Vdev</th><th>State (fe/be)</th><th>Ring pages</th><th>Queues</th><th>Occupancy</th>
      <th>IOPS</th><th>Latency mean / p99 (ms)</th><th>Kicks in/s</th><th>Events out/s (suppressed)</th><th>NBD</th>
    </tr></thead><tbody></tbody></table>
    <div id="charts"></div>
  </section>
  <section id="faults-panel" class="panel">
    <h2>Active faults</h2>
    <div id="faults"><p class="muted">none</p></div>
    <h3>Chaos faults</h3>
    <div id="chaos-faults"><p class="muted">none</p></div>
    <button id="heal-all" type="button">Heal all</button>
  </section>
  <section id="evtchn-panel" class="panel">
    <h2>Event channels <select id="evtchn-domain"></select></h2>
    <table id="evtchn"><thead><tr><th>Port</th><th>Status</th><th>VCPU</th><th>Remote</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="xenstore-panel" class="panel">
    <h2>xenstore <input id="xs-path" value="/local/domain" size="24" aria-label="xenstore path"></h2>
    <div id="xs-tree" class="tree"></div>
    <h3>Watch events</h3>
    <ol id="xs-events" class="events"></ol>
  </section>
  <section id="trace-panel" class="panel wide">
    <h2>Protocol trace
      <select id="trace-domain" aria-label="trace domain"><option value="">all domains</option></select>
      <select id="trace-kind" aria-label="trace kind">
        <option value="">all kinds</option><option>xs</option><option>ring</option><option>evtchn</option>
        <option>grant</option><option>store</option>
      </select>
      <button id="trace-toggle" type="button">Start</button>
      <span id="trace-count" class="muted"></span>
    </h2>
    <ol id="trace-events" class="events trace"></ol>
  </section>
  <section id="console-panel" class="panel">
    <h2>Console <select id="console-domain"></select></h2>
    <pre id="console" class="muted">not available</pre>
  </section>
  <section id="screen-panel" class="panel">
    <h2>Screen <select id="screen-domain"></select></h2>
    <div id="screen" class="muted">not available</div>
  </section>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2330; background: #f3f5f8; }
header { display: flex; align-items: center; gap: 1rem; padding: 0.5rem 1rem; background: #1d2330; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
.badge { padding: 0.1rem 0.5rem; border-radius: 0.6rem; font-size: 0.8rem; background: #2e7d32; }
.badge.off { background: #9e9e9e; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 0.8rem; padding: 0.8rem; }
.panel { background: #fff; border-radius: 6px; padding: 0.6rem 0.8rem; box-shadow: 0 1px 2px #0002; overflow: auto; }
.panel.wide { grid-column: 1 / -1; }
h2 { font-size: 1rem; margin: 0 0 0.4rem; display: flex; gap: 0.5rem; align-items: center; }
h3 { font-size: 0.9rem; margin: 0.6rem 0 0.2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.15rem 0.5rem; border-bottom: 1px solid #e4e7ec; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #7a8190; }
.tree { font-family: ui-monospace, monospace; font-size: 12px; max-height: 320px; overflow: auto; }
.tree details { margin-left: 0.9rem; }
.tree .leaf { margin-left: 0.9rem; }
.tree .flash { background: #fff59d; }
.events { font-family: ui-monospace, monospace; font-size: 12px; max-height: 160px; overflow: auto; margin: 0; padding-left: 1.2rem; }
.occupancy { display: inline-block; width: 80px; height: 8px; background: #e4e7ec; border-radius: 4px; vertical-align: middle; }
.occupancy > span { display: block; height: 100%; background: #1565c0; border-radius: 4px; }
#charts { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: 0.6rem; }
.chart h4 { margin: 0; font-size: 0.85rem; }
.fault { border-left: 3px solid #c62828; padding-left: 0.5rem; margin-bottom: 0.4rem; }
.fault code { font-size: 12px; }
button { cursor: pointer; }
pre { margin: 0; max-height: 240px; overflow: auto; }
.events.trace { max-height: 320px; white-space: pre; }
.trace .k-xs { color: #6a1b9a; } .trace .k-ring { color: #1565c0; } .trace .k-evtchn { color: #ef6c00; }
.trace .k-grant { color: #2e7d32; } .trace .k-store { color: #5d4037; }
#screen img { max-width: 100%; image-rendering: pixelated; }
`;
