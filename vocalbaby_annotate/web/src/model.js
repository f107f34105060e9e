// VocalBaby studio: the model page (version, corpora, metrics with intervals, per-class figures,
// confusion matrix, learning curve, history) and the Retrain button (Dagster), disabled with the
// reason.
import { COLORS, svgEl as el } from "./studio.js";

const $ = (id) => document.getElementById(id);
const fmt = (x) => (typeof x === "number" ? x.toFixed(3) : x ?? "–");

function table(head, rows) {
  const t = document.createElement("table");
  const tr = document.createElement("tr");
  for (const text of head) tr.append(Object.assign(document.createElement("th"), { scope: "col", textContent: text }));
  t.createTHead().append(tr);
  const body = t.createTBody();
  for (const row of rows) {
    const r = body.insertRow();
    for (const value of row) r.insertCell().textContent = fmt(value);
  }
  return t;
}

function interval(found) {
  return found && typeof found === "object" ? ` (95% CI ${fmt(found.low)}–${fmt(found.high)})` : "";
}

/** UAR against the share of training children, one line (with its 95% CI band) per model. */
function curvePlot(rows) {
  const [w, h, pad] = [520, 280, 50];
  const x = (f) => pad + f * (w - 2 * pad);
  const y = (u) => h - pad - u * (h - 2 * pad);
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", "aria-label": "learning curve" });
  svg.append(el("line", { x1: pad, y1: y(0), x2: w - pad, y2: y(0), stroke: "#888" }));
  svg.append(el("line", { x1: pad, y1: y(0), x2: pad, y2: y(1), stroke: "#888" }));
  for (const t of [0, 0.5, 1]) {
    svg.append(el("text", { x: x(t), y: h - pad + 16, "text-anchor": "middle", "font-size": 11 }, String(t)));
    svg.append(el("text", { x: pad - 6, y: y(t) + 4, "text-anchor": "end", "font-size": 11 }, String(t)));
  }
  svg.append(el("text", { x: w / 2, y: h - 6, "text-anchor": "middle", "font-size": 11 }, "share of training children"));
  const palette = Object.values(COLORS).map((rgb) => `rgb(${rgb.join(",")})`);
  const models = [...new Set(rows.map((r) => r.model))];
  models.forEach((model, i) => {
    const pts = rows.filter((r) => r.model === model).sort((a, b) => a.fraction - b.fraction);
    const color = palette[i % palette.length];
    const band = [...pts.map((p) => `${x(p.fraction)},${y(p.uar_high)}`), ...pts.reverse().map((p) => `${x(p.fraction)},${y(p.uar_low)}`)];
    pts.reverse();
    svg.append(el("polygon", { points: band.join(" "), fill: color, opacity: 0.15 }));
    svg.append(el("polyline", { points: pts.map((p) => `${x(p.fraction)},${y(p.uar)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
    svg.append(el("text", { x: pad + 8, y: pad - 20 + 14 * i, fill: color, "font-size": 11 }, model));
  });
  return svg;
}

function render(page) {
  const box = $("model-details");
  if (!page.available) {
    box.replaceChildren(Object.assign(document.createElement("p"), { textContent: page.message }));
    return;
  }
  const card = page.card;
  const lines = [
    `Version ${card.version}${card.created ? `, trained ${card.created}` : ""}`,
    `Training corpora: ${card.dataset_uri || "unknown"}${card.synthetic_demo_data ? " (synthetic demo data)" : ""}`,
  ];
  if (card.evaluated) {
    const m = card.metrics;
    lines.push(`Test UAR ${fmt(m.uar)}${interval(card.intervals.uar)}, macro-F1 ${fmt(m.macro_f1)}${interval(card.intervals.macro_f1)}, ${m.n} clips`);
    lines.push(`Gate: ${card.gate.passed ? "passed" : `failed (${card.gate.reasons.join("; ")})`}`);
  } else {
    lines.push("Not evaluated: no evaluation.json beside the bundle.");
  }
  const parts = lines.map((text) => Object.assign(document.createElement("p"), { textContent: text }));
  const perClass = Object.entries(page.per_class);
  if (perClass.length) {
    parts.push(table(["Class", "Precision", "Recall", "F1", "Support"],
      perClass.map(([c, v]) => [c, v.precision, v.recall, v.f1, v.support])));
  }
  const { labels, matrix } = page.confusion;
  if (matrix.length) {
    const caption = Object.assign(document.createElement("p"), { textContent: "Confusion matrix (rows: true class, columns: predicted)" });
    parts.push(caption, table(["true \\ predicted", ...labels], matrix.map((row, i) => [labels[i], ...row])));
  }
  if (page.calibration) {
    const c = page.calibration;
    parts.push(Object.assign(document.createElement("p"), {
      textContent: `Calibration: temperature ${fmt(c.temperature)}, expected calibration error ${fmt(c.ece)} (before: ${fmt(c.ece_uncalibrated)})`,
    }));
  }
  parts.push(Object.assign(document.createElement("h3"), { textContent: "Top features (share of the trees' gain)" }));
  parts.push(table(["Feature", "Share"], page.top_features.map((f) => [f.feature, f.share])));
  if (page.learning_curve.length) {
    parts.push(Object.assign(document.createElement("h3"), { textContent: "Learning curve of the latest pipeline run (pooled out-of-fold UAR, 95% CI by child)" }));
    parts.push(curvePlot(page.learning_curve));
    parts.push(table(["Model", "Share of training children", "UAR", "UAR 95% CI"],
      page.learning_curve.map((r) => [r.model, r.fraction, r.uar, `${fmt(r.uar_low)}–${fmt(r.uar_high)}`])));
  }
  parts.push(Object.assign(document.createElement("h3"), { textContent: "History" }));
  parts.push(table(["Version", "Created", "Corpora", "UAR", "UAR 95% CI", "Gate", "Current"],
    page.history.map((h) => [h.version, h.created, h.dataset_uri, h.uar,
      h.uar_interval ? `${fmt(h.uar_interval.low)}–${fmt(h.uar_interval.high)}` : "–",
      h.gate_passed === null ? "–" : h.gate_passed ? "passed" : "failed", h.current ? "✓" : ""])));
  box.replaceChildren(...parts);
}

async function follow(api, run) {
  const status = await api(`/api/retrain/${run.run_id}`);
  $("retrain-status").replaceChildren(`Run ${run.run_id.slice(0, 8)}: ${status.status} · `,
    Object.assign(document.createElement("a"), { href: run.url, textContent: "open in Dagster", target: "_blank", rel: "noopener" }));
  if (!["SUCCESS", "FAILURE", "CANCELED"].includes(status.status)) setTimeout(() => follow(api, run), 2000);
}

async function initRetrain(api) {
  const info = await api("/api/retrain");
  const button = $("retrain");
  button.disabled = !info.enabled;
  $("retrain-status").textContent = info.message;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await follow(api, await api("/api/retrain", { method: "POST" }));
    } catch (err) {
      $("retrain-status").textContent = err.message;
      button.disabled = false;
    }
  });
}

export function initModelPage(api) {
  const view = $("model-view");
  let loaded = false;
  $("show-model").addEventListener("click", async () => {
    view.hidden = !view.hidden;
    $("show-model").setAttribute("aria-expanded", String(!view.hidden));
    if (!view.hidden && !loaded) {
      loaded = true;
      render(await api("/api/model"));
      await initRetrain(api);
    }
  });
}
