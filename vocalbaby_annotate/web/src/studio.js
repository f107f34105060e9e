// VocalBaby studio additions to the review page: uploads (drag and drop or a file picker) with
// a progress bar while files upload and are classified, the class-band strip of each recording,
// export links for lab formats, and the summary view (table, plots, CSV download).
export const COLORS = {
  canonical: [27, 158, 119],
  non_canonical: [217, 95, 2],
  crying: [117, 112, 179],
  laughing: [231, 41, 138],
  junk: [102, 102, 102],
};
const AUDIO = /\.(wav|flac|ogg)$/i;
const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and, optionally, text. */
export function svgEl(name, attrs, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const POLL_MS = 400;
const $ = (id) => document.getElementById(id);
const enc = (id) => id.split("/").map(encodeURIComponent).join("/");

// --- class bands -------------------------------------------------------------------------------

/** A strip of coloured bands, one per run of a class, scaled to the recording's duration. */
export function bandStrip(item) {
  const strip = document.createElement("span");
  strip.className = "bands";
  strip.setAttribute("aria-hidden", "true");
  const total = item.duration_s || 1;
  for (const [start, end, label] of item.bands || []) {
    const band = document.createElement("span");
    band.dataset.label = label;
    band.style.left = `${(100 * start) / total}%`;
    band.style.width = `${(100 * (end - start)) / total}%`;
    band.style.background = `rgb(${COLORS[label].join(",")})`;
    strip.append(band);
  }
  return strip;
}

// --- exports ------------------------------------------------------------------------------------

export function setExportLinks(id) {
  for (const format of ["textgrid", "eaf", "rttm", "csv"]) {
    const link = $(`export-${format}`);
    link.href = `/api/export/${enc(id)}?format=${format}`;
    link.removeAttribute("aria-disabled");
  }
}

// --- uploads ------------------------------------------------------------------------------------

const uploads = { files: [], timer: null, onDone: null };

function uploadOne(entry) {
  return new Promise((resolve) => {
    const params = new URLSearchParams({ name: entry.file.name });
    const child = $("upload-child").value.trim();
    const age = $("upload-age").value.trim();
    if (child) params.set("child_id", child);
    if (age) params.set("age_months", age);
    const request = new XMLHttpRequest();
    request.open("POST", `/api/upload?${params}`);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) entry.sent = event.loaded / event.total;
      renderUploads();
    });
    request.addEventListener("load", () => {
      const body = JSON.parse(request.responseText || "{}");
      if (request.status === 202) Object.assign(entry, { sent: 1, job: body.id, state: "queued" });
      else Object.assign(entry, { sent: 1, state: "failed", error: body.message || request.statusText });
      renderUploads();
      resolve();
    });
    request.addEventListener("error", () => {
      Object.assign(entry, { state: "failed", error: "the upload was interrupted" });
      renderUploads();
      resolve();
    });
    request.send(entry.file);
  });
}

async function addFiles(fileList) {
  const chosen = [...fileList];
  const refused = chosen.filter((f) => !AUDIO.test(f.name));
  for (const file of chosen.filter((f) => AUDIO.test(f.name))) {
    uploads.files.push({ file, sent: 0, state: "uploading", job: null, error: null, started: performance.now() });
  }
  if (refused.length) $("upload-status").textContent = `Not audio (wav, flac, ogg): ${refused.map((f) => f.name).join(", ")}`;
  renderUploads();
  for (const entry of uploads.files.filter((e) => e.state === "uploading" && e.sent === 0)) {
    await uploadOne(entry); // one at a time: the server classifies them in order anyway
    poll();
  }
}

async function poll() {
  clearTimeout(uploads.timer);
  const response = await fetch("/api/jobs");
  const jobs = Object.fromEntries((await response.json()).jobs.map((j) => [j.id, j]));
  let finished = false;
  for (const entry of uploads.files) {
    const job = jobs[entry.job];
    if (!job || entry.state === "done" || entry.state === "failed") continue;
    entry.state = job.state;
    entry.position = job.position;
    if (job.state === "done" || job.state === "failed") {
      entry.error = job.error;
      entry.seconds = (performance.now() - entry.started) / 1000;
      finished = true;
    }
  }
  renderUploads();
  if (finished && uploads.onDone) await uploads.onDone();
  if (uploads.files.some((e) => ["uploading", "queued", "running"].includes(e.state))) {
    uploads.timer = setTimeout(poll, POLL_MS);
  }
}

function fraction(entry) {
  if (entry.state === "done" || entry.state === "failed") return 1;
  return 0.5 * entry.sent + (entry.state === "running" ? 0.25 : 0);
}

function renderUploads() {
  const bar = $("upload-progress");
  const total = uploads.files.length;
  bar.max = 1;
  bar.value = total ? uploads.files.reduce((sum, e) => sum + fraction(e), 0) / total : 0;
  const done = uploads.files.filter((e) => e.state === "done").length;
  $("upload-status").textContent = total ? `${done} / ${total} classified` : "";
  $("jobs").replaceChildren(
    ...uploads.files.map((entry) => {
      const li = document.createElement("li");
      li.dataset.state = entry.state;
      const where = entry.state === "queued" && entry.position ? ` (#${entry.position} in line)` : "";
      const took = entry.seconds ? ` in ${entry.seconds.toFixed(1)} s` : "";
      const why = entry.error ? `: ${entry.error}` : "";
      li.textContent = `${entry.file.name}: ${entry.state}${where}${took}${why}`;
      return li;
    }),
  );
}

function initUploads(onDone) {
  uploads.onDone = onDone;
  $("upload-panel").hidden = false;
  const zone = $("dropzone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    addFiles(event.dataTransfer.files);
  });
  $("upload-files").addEventListener("change", (event) => addFiles(event.target.files));
}

// --- summary ------------------------------------------------------------------------------------

const SHOWN = [
  ["recordings", "Recordings"],
  ["recorded_min", "Minutes"],
  ["vocalizations", "Vocalizations"],
  ["volubility_per_min", "Volubility /min"],
  ["cbr", "CBR"],
  ["cbr_low", "CBR low"],
  ["cbr_high", "CBR high"],
];

function groupName(row, by) {
  const age = row.age_months === null ? "" : ` (${row.age_months} mo)`;
  return by === "recording" ? row.recording : `${row.child_id}${age}`;
}

async function loadSummary(api) {
  const by = $("summary-by").value;
  const source = $("summary-source").value;
  const query = `by=${by}&source=${source}`;
  $("summary-csv").href = `/api/summary?${query}&format=csv`;
  const data = await api(`/api/summary?${query}`);
  const head = document.createElement("tr");
  for (const text of [by === "recording" ? "Recording" : "Child (age)", ...SHOWN.map((c) => c[1])]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.append(th);
  }
  $("summary-table").querySelector("thead").replaceChildren(head);
  $("summary-table").querySelector("tbody").replaceChildren(
    ...data.rows.map((row) => {
      const tr = document.createElement("tr");
      for (const value of [groupName(row, by), ...SHOWN.map(([key]) => row[key])]) {
        const td = document.createElement("td");
        td.textContent = value === null ? "–" : typeof value === "number" ? +value.toFixed(3) : value;
        tr.append(td);
      }
      return tr;
    }),
  );
  const aged = data.rows.filter((row) => row.age_months !== null && row.cbr !== null);
  $("summary-plot").replaceChildren(plot(data.rows, by), ...(by === "child" && aged.length ? [trajectories(aged)] : []));
  $("summary-empty").hidden = data.rows.length > 0;
}

/** CBR with its bootstrap interval and volubility, one row per group, as an SVG. */
function plot(rows, by) {
  const el = svgEl;
  const rowH = 22, left = 180, width = 620, barW = 180, gap = 40;
  const svg = el("svg", { width, height: 40 + rows.length * rowH, role: "img" });
  svg.append(el("title", {}, "Canonical babbling ratio with 95% interval, and volubility"));
  const maxVol = Math.max(1e-9, ...rows.map((r) => r.volubility_per_min || 0));
  svg.append(el("text", { x: left, y: 14, class: "axis" }, "CBR (0–1, 95% CI)"));
  svg.append(el("text", { x: left + barW + gap, y: 14, class: "axis" }, `volubility /min (max ${maxVol.toFixed(1)})`));
  rows.forEach((row, i) => {
    const y = 30 + i * rowH;
    svg.append(el("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, groupName(row, by)));
    svg.append(el("line", { x1: left, x2: left + barW, y1: y, y2: y, class: "track" }));
    if (row.cbr !== null) {
      if (row.cbr_low !== null) {
        svg.append(el("line", { x1: left + barW * row.cbr_low, x2: left + barW * row.cbr_high, y1: y, y2: y, class: "ci" }));
      }
      svg.append(el("circle", { cx: left + barW * row.cbr, cy: y, r: 4, class: "point" }));
    }
    const vol = row.volubility_per_min || 0;
    svg.append(el("rect", { x: left + barW + gap, y: y - 6, width: (barW * vol) / maxVol, height: 12, class: "bar" }));
  });
  return svg;
}

/** CBR by age, one line per child, with the bootstrap intervals as vertical bars. */
function trajectories(rows) {
  const el = svgEl;
  const width = 620, height = 220, pad = 36;
  const ages = rows.map((r) => r.age_months);
  const [a0, a1] = [Math.min(...ages) - 1, Math.max(...ages) + 1];
  const x = (age) => pad + ((age - a0) / (a1 - a0)) * (width - 2 * pad);
  const y = (v) => height - pad - v * (height - 2 * pad);
  const svg = el("svg", { id: "summary-trajectory", width, height, role: "img" });
  svg.append(el("title", {}, "Canonical babbling ratio by age, per child"));
  svg.append(el("line", { x1: pad, x2: width - pad, y1: y(0), y2: y(0), class: "track" }));
  svg.append(el("text", { x: pad, y: height - 8 }, `${a0 + 1} months`));
  svg.append(el("text", { x: width - pad, y: height - 8, "text-anchor": "end" }, `${a1 - 1} months`));
  svg.append(el("text", { x: 4, y: y(1) + 4 }, "CBR 1"));
  const children = [...new Set(rows.map((r) => r.child_id))];
  for (const child of children) {
    const own = rows.filter((r) => r.child_id === child).sort((p, q) => p.age_months - q.age_months);
    svg.append(el("polyline", { points: own.map((r) => `${x(r.age_months)},${y(r.cbr)}`).join(" "), fill: "none", class: "ci" }));
    for (const r of own) {
      if (r.cbr_low !== null) svg.append(el("line", { x1: x(r.age_months), x2: x(r.age_months), y1: y(r.cbr_low), y2: y(r.cbr_high), class: "ci" }));
      const dot = el("circle", { cx: x(r.age_months), cy: y(r.cbr), r: 4, class: "point" });
      dot.append(el("title", {}, `${child}, ${r.age_months} months: CBR ${r.cbr}`));
      svg.append(dot);
    }
    const last = own[own.length - 1];
    svg.append(el("text", { x: x(last.age_months) + 6, y: y(last.cbr) - 6 }, child));
  }
  return svg;
}

function initSummary(api) {
  const view = $("summary-view");
  $("show-summary").addEventListener("click", async () => {
    view.hidden = !view.hidden;
    $("show-summary").setAttribute("aria-expanded", String(!view.hidden));
    if (!view.hidden) await loadSummary(api);
  });
  for (const id of ["summary-by", "summary-source"]) {
    $(id).addEventListener("change", () => loadSummary(api));
  }
}

export function initStudio({ config, api, onUploaded }) {
  if (config.uploads) initUploads(onUploaded);
  initSummary(api);
}
