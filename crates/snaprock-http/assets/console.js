// The snaprock console: polls /api/console (jobs, history) every 2 s and /api/repositories
// (snapshots) every 15 s, and draws them. Text is only ever set through textContent.
"use strict";

const COLORS = ["#1f6feb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];
const SVG = "http://www.w3.org/2000/svg";
let history = [];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
  }
  return node;
}

function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function seconds(s) {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function time(ms) {
  return ms ? new Date(ms).toLocaleString() : "";
}

function isDone(job) {
  return job.state === "FINISHED" || job.state === "CANCELLED";
}

function drawRunning(jobs) {
  const box = document.getElementById("running");
  const running = jobs.filter((job) => !isDone(job));
  box.replaceChildren();
  if (running.length === 0) {
    box.append(el("p", { class: "muted" }, "No job is running."));
    return;
  }
  for (const job of running) {
    const fraction = job.bytes_total > 0 ? job.bytes_done / job.bytes_total : 0;
    const fill = el("div", { class: "fill" });
    fill.style.width = `${(100 * Math.min(fraction, 1)).toFixed(1)}%`;
    const bar = el("div", {
      class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(job.bytes_total),
      "aria-valuenow": String(job.bytes_done),
    }, fill);
    const parts = [
      `files ${job.files_done}/${job.files_total}`,
      `${bytes(job.bytes_done)} / ${bytes(job.bytes_total)}`,
    ];
    if (job.rate) {
      parts.push(`${bytes(job.rate)}/s`);
      if (job.bytes_total > job.bytes_done) parts.push(`ETA ${seconds((job.bytes_total - job.bytes_done) / job.rate)}`);
    }
    box.append(el("div", { class: "job", "data-database": job.database, "data-snapshot": job.snapshot },
      el("div", { class: "title" }, `${job.kind} ${job.database} → ${job.snapshot} (${job.repository})`),
      el("div", { class: "muted" }, `${job.state} since ${time(job.create_time)}`),
      bar,
      el("div", { class: "figures" }, parts.join(" · ")),
      job.task_err_msg ? el("div", { class: "problem" }, job.task_err_msg) : ""));
  }
}

function drawHistory(entries) {
  const body = document.querySelector("#history tbody");
  body.replaceChildren();
  for (const job of entries.slice().reverse()) {
    const duration = (job.finished_time - job.create_time) / 1000;
    body.append(el("tr", { "data-kind": job.kind, "data-snapshot": job.snapshot },
      el("td", {}, job.kind),
      el("td", {}, job.database),
      el("td", {}, job.snapshot),
      el("td", {}, job.repository),
      el("td", { class: `state-${job.state}` }, job.state),
      el("td", {}, time(job.create_time)),
      el("td", { class: "num" }, seconds(duration)),
      el("td", { class: "num" }, `${bytes(job.bytes)} (${job.files} files)`),
      el("td", { class: "num" }, job.kind === "BACKUP" ? `${bytes(job.bytes_reused)} (${job.files_reused} files)` : ""),
      el("td", { class: "status" }, job.status)));
  }
  if (entries.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: "10", class: "muted" }, "No job has ended yet.")));
  }
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

// One line per database over time: `value` of each finished backup.
function drawChart(id, series, value, label) {
  const chart = document.getElementById(id);
  chart.replaceChildren();
  const points = [].concat(...Object.values(series));
  if (points.length === 0) {
    const text = svg("text", { x: 16, y: 100 });
    text.textContent = "No finished backup yet.";
    chart.append(text);
    return;
  }
  const [left, right, top, bottom] = [56, 470, 12, 180];
  const times = points.map((p) => p.finished_time);
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const vmax = Math.max(...points.map(value), 1);
  const x = (t) => (t1 === t0 ? (left + right) / 2 : left + ((t - t0) / (t1 - t0)) * (right - left));
  const y = (v) => bottom - (v / vmax) * (bottom - top);
  chart.append(svg("line", { x1: left, y1: bottom, x2: right, y2: bottom, stroke: "#c5ced8" }));
  chart.append(svg("line", { x1: left, y1: top, x2: left, y2: bottom, stroke: "#c5ced8" }));
  for (const [v, yy] of [[vmax, top + 8], [0, bottom]]) {
    const tick = svg("text", { x: 4, y: yy });
    tick.textContent = label(v);
    chart.append(tick);
  }
  const when = (t) => new Date(t).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  const first = svg("text", { x: left, y: 194 });
  first.textContent = when(t0);
  chart.append(first);
  if (t1 !== t0) {
    const last = svg("text", { x: right, y: 194, "text-anchor": "end" });
    last.textContent = when(t1);
    chart.append(last);
  }
  Object.keys(series).sort().forEach((database, i) => {
    const color = COLORS[i % COLORS.length];
    const list = series[database];
    if (list.length > 1) {
      chart.append(svg("polyline", {
        fill: "none", stroke: color, "stroke-width": 2,
        points: list.map((p) => `${x(p.finished_time)},${y(value(p))}`).join(" "),
      }));
    }
    for (const p of list) {
      const dot = svg("circle", { cx: x(p.finished_time), cy: y(value(p)), r: 3, fill: color, "data-database": database });
      const title = svg("title", {});
      title.textContent = `${database} ${p.snapshot}: ${label(value(p))}`;
      dot.append(title);
      chart.append(dot);
    }
  });
}

function drawCharts(entries) {
  const series = {};
  for (const job of entries) {
    if (job.kind !== "BACKUP" || job.state !== "FINISHED") continue;
    (series[job.database] = series[job.database] || []).push(job);
  }
  drawChart("chart-size", series, (p) => p.bytes + p.bytes_reused, bytes);
  drawChart("chart-duration", series, (p) => (p.finished_time - p.create_time) / 1000, seconds);
  const legend = document.getElementById("legend");
  legend.replaceChildren();
  Object.keys(series).sort().forEach((database, i) => {
    const swatch = el("i");
    swatch.style.background = COLORS[i % COLORS.length];
    legend.append(el("span", {}, swatch, database));
  });
}

function drawRepositories(repositories) {
  const box = document.getElementById("repositories");
  box.replaceChildren();
  if (repositories.length === 0) {
    box.append(el("p", { class: "muted" }, "No repository is visible to this account."));
    return;
  }
  const backups = new Map();
  for (const job of history) {
    if (job.kind === "BACKUP" && job.state === "FINISHED") backups.set(`${job.repository}/${job.snapshot}`, job);
  }
  for (const repo of repositories) {
    box.append(el("h3", {}, `${repo.name} `, el("span", { class: "muted" }, `${repo.location}${repo.read_only ? " (read only)" : ""}`)));
    if (repo.error) box.append(el("p", { class: "problem" }, repo.error));
    const table = el("table", { class: "snapshots", "data-repository": repo.name },
      el("thead", {}, el("tr", {}, ...["Snapshot", "Timestamp", "Status", "Finished", "Size", "Uploaded", "Reused", "TTL", "Expires"].map((h) => el("th", {}, h)))));
    const body = el("tbody");
    for (const snap of repo.snapshots) {
      const job = backups.get(`${repo.name}/${snap.Snapshot}`);
      body.append(el("tr", { "data-snapshot": snap.Snapshot },
        el("td", {}, snap.Snapshot),
        el("td", {}, snap.Timestamp),
        el("td", {}, snap.Status),
        el("td", {}, snap.FinishTime),
        el("td", { class: "num" }, job ? bytes(job.bytes + job.bytes_reused) : ""),
        el("td", { class: "num" }, job ? `${job.files} files, ${bytes(job.bytes)}` : ""),
        el("td", { class: "num" }, job ? `${job.files_reused} files, ${bytes(job.bytes_reused)}` : ""),
        el("td", {}, snap.TTL),
        el("td", {}, snap.ExpireTime)));
    }
    if (repo.snapshots.length === 0) body.append(el("tr", {}, el("td", { colspan: "9", class: "muted" }, "No snapshot.")));
    table.append(body);
    box.append(table);
  }
}

function problem(text) {
  const p = document.getElementById("problem");
  p.hidden = !text;
  p.textContent = text || "";
}

async function fetchJson(path) {
  const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

async function refreshJobs() {
  try {
    const data = await fetchJson("/api/console");
    history = data.history;
    document.getElementById("user").textContent = data.user;
    document.getElementById("updated").textContent = `updated ${new Date(data.now).toLocaleTimeString()}`;
    drawRunning(data.jobs);
    drawHistory(data.history);
    drawCharts(data.history);
    problem("");
  } catch (e) {
    problem(`Cannot reach the server: ${e.message}`);
  }
}

async function refreshRepositories() {
  try {
    const data = await fetchJson("/api/repositories");
    drawRepositories(data.repositories);
  } catch (e) {
    problem(`Cannot list repositories: ${e.message}`);
  }
}

refreshJobs().then(refreshRepositories);
setInterval(refreshJobs, 2000);
setInterval(refreshRepositories, 15000);
