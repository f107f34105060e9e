// VocalBaby studio: the feature explorer. Per-class histograms of one eGeMAPS feature and a PCA
// scatter of the labelled windows; clicking a point plays that window of its recording.
import { COLORS, svgEl as el } from "./studio.js";

const $ = (id) => document.getElementById(id);
const enc = (id) => id.split("/").map(encodeURIComponent).join("/");
const rgb = (label) => `rgb(${(COLORS[label] || [150, 150, 150]).join(",")})`;

function histogram(found) {
  const width = 640, height = 220, pad = 30;
  const svg = el("svg", { width, height, role: "img" });
  svg.append(el("title", {}, `Distribution of ${found.feature} per class`));
  const classes = Object.entries(found.classes);
  const bins = found.edges.length - 1;
  // per-class densities (share of the class's windows per bin), drawn as lines
  const shares = classes.map(([c, v]) => [c, v.counts.map((n) => n / Math.max(1, v.n))]);
  const top = Math.max(1e-9, ...shares.flatMap(([, s]) => s));
  const x = (i) => pad + ((i + 0.5) * (width - 2 * pad)) / bins;
  const y = (s) => height - pad - (s / top) * (height - 2 * pad);
  for (const [label, share] of shares) {
    const points = share.map((s, i) => `${x(i)},${y(s)}`).join(" ");
    svg.append(el("polyline", { points, fill: "none", stroke: rgb(label), "stroke-width": 2, "data-label": label }));
  }
  svg.append(el("text", { x: pad, y: height - 8 }, String(found.edges[0])));
  svg.append(el("text", { x: width - pad, y: height - 8, "text-anchor": "end" }, String(found.edges[bins])));
  classes.forEach(([label, v], i) => {
    svg.append(el("text", { x: width - pad, y: 14 + 14 * i, "text-anchor": "end", fill: rgb(label) }, `${label} (n=${v.n}, median ${v.min_q1_median_q3_max[2]})`));
  });
  return svg;
}

function scatter(pca) {
  const width = 640, height = 420, pad = 20;
  const svg = el("svg", { width, height, role: "img" });
  svg.append(el("title", {}, "PCA of the 88 features; click a point to hear its window"));
  const xs = pca.points.map((p) => p.x), ys = pca.points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (v) => pad + ((v - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  const sy = (v) => height - pad - ((v - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  pca.points.forEach((p, i) => {
    const dot = el("circle", { cx: sx(p.x), cy: sy(p.y), r: 4, fill: rgb(p.label), "data-index": i, tabindex: 0 });
    dot.append(el("title", {}, `${p.recording} ${p.start_s.toFixed(2)}–${p.end_s.toFixed(2)} s: ${p.label}`));
    dot.addEventListener("click", () => play(p));
    dot.addEventListener("keydown", (event) => event.key === "Enter" && play(p));
    svg.append(dot);
  });
  return svg;
}

function play(point) {
  const player = $("clip-player");
  const src = `/api/audio/${enc(point.recording)}`;
  const start = () => {
    player.currentTime = point.start_s;
    player.dataset.end = String(point.end_s);
    player.play().catch(() => {});
  };
  $("explorer-playing").textContent = `Playing ${point.recording} ${point.start_s.toFixed(2)}–${point.end_s.toFixed(2)} s (${point.label})`;
  if (player.dataset.src === src) start();
  else {
    player.dataset.src = src;
    player.src = src;
    player.addEventListener("loadedmetadata", start, { once: true });
  }
}

async function showFeature(api) {
  const name = $("explorer-feature").value;
  const found = await api(`/api/features/distribution?feature=${encodeURIComponent(name)}`);
  $("explorer-histogram").replaceChildren(histogram(found));
}

export function initExplorer(api) {
  const view = $("explorer-view");
  let loaded = false;
  const player = $("clip-player");
  player.addEventListener("timeupdate", () => {
    if (player.currentTime >= parseFloat(player.dataset.end || "Infinity")) player.pause();
  });
  $("show-explorer").addEventListener("click", async () => {
    view.hidden = !view.hidden;
    $("show-explorer").setAttribute("aria-expanded", String(!view.hidden));
    if (view.hidden || loaded) return;
    loaded = true;
    $("explorer-status").textContent = "Extracting features…";
    const names = await api("/api/features");
    $("explorer-feature").replaceChildren(...names.features.map((n) => new Option(n, n)));
    $("explorer-feature").addEventListener("change", () => showFeature(api));
    await showFeature(api);
    const pca = await api("/api/features/pca");
    const [a, b] = pca.explained.map((v) => `${(100 * v).toFixed(0)}%`);
    $("explorer-status").textContent = `${names.windows} windows · PCA explains ${a} and ${b}`;
    $("explorer-pca").replaceChildren(scatter(pca));
  });
}
