// VocalBaby review page: list of recordings, waveform + spectrogram with the segments as
// regions (wavesurfer.js), keyboard labelling, boundary editing, split/merge, undo.
// Every change is saved at once as a new revision (PUT /api/annotation/{id}); a stale base
// revision gets 409 and the page stops saving until the recording is reloaded.
import WaveSurfer from "wavesurfer/wavesurfer.esm.js";
import RegionsPlugin from "wavesurfer/plugins/regions.esm.js";
import SpectrogramPlugin from "wavesurfer/plugins/spectrogram.esm.js";
import TimelinePlugin from "wavesurfer/plugins/timeline.esm.js";
import { initExplorer } from "./explorer.js";
import { initModelPage } from "./model.js";
import { COLORS, bandStrip, initStudio, setExportLinks } from "./studio.js";

const UNLABELLED = [180, 180, 180];
const MIN_SEGMENT_S = 0.01;
const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  list: [],
  visible: [],
  current: null,
  segments: [],
  reviewed: false,
  revision: 0,
  selected: 0,
  undo: [],
  saving: false,
  pending: null,
  conflict: false,
  wavesurfer: null,
  regions: null,
};

// --- server ----------------------------------------------------------------------------------

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.message || response.statusText), {
    status: response.status,
    body,
  });
  return body;
}

const enc = (id) => id.split("/").map(encodeURIComponent).join("/");

function annotator() {
  const input = $("annotator");
  return input.checkValidity() ? input.value.trim() : "";
}

// --- messages ---------------------------------------------------------------------------------

function status(text) {
  $("status").textContent = text;
}

function alertUser(text, action) {
  const box = $("alert");
  box.replaceChildren(text);
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action.label;
    button.addEventListener("click", action.run);
    box.append(" ", button);
  }
  box.hidden = false;
}

function clearAlert() {
  $("alert").hidden = true;
  $("alert").replaceChildren();
}

// --- recording list ---------------------------------------------------------------------------

async function loadList() {
  const data = await api(`/api/recordings?annotator=${encodeURIComponent(annotator())}`);
  state.list = data.recordings;
  $("progress").textContent = `${data.reviewed} / ${data.total} reviewed`;
  renderList();
}

function matchesFilters(item) {
  const label = $("filter-label").value;
  const below = parseFloat($("filter-confidence").value);
  const wanted = $("filter-status").value;
  if (label && !item.suggested_labels.includes(label)) return false;
  if (!Number.isNaN(below) && !(item.confidence !== null && item.confidence < below)) return false;
  if (wanted === "todo" && item.reviewed) return false;
  if (wanted === "done" && !item.reviewed) return false;
  if ($("filter-disagreement").checked && !item.disagreement) return false;
  return true;
}

function renderList() {
  state.visible = state.list.filter(matchesFilters);
  const list = $("recording-list");
  list.replaceChildren(
    ...state.visible.map((item) => {
      const li = document.createElement("li");
      if (item.error) {
        li.className = "unreadable";
        li.textContent = `${item.id}: unreadable (${item.error})`;
        return li;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.id = item.id;
      const confidence = item.confidence === null ? "" : ` · conf ${item.confidence.toFixed(2)}`;
      const who = item.annotators.length ? ` · ${item.annotators.join(", ")}` : "";
      button.textContent =
        `${item.reviewed ? "✓ " : ""}${item.id} — ${item.label ?? "no label"}${confidence}${who}` +
        (item.disagreement ? " · disagreement" : "");
      if (state.current && state.current.id === item.id) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => openRecording(item.id));
      button.append(bandStrip(item));
      li.append(button);
      return li;
    }),
  );
}

function stepRecording(delta) {
  const usable = state.visible.filter((item) => !item.error);
  if (!usable.length) return;
  const at = usable.findIndex((item) => state.current && item.id === state.current.id);
  const next = usable[Math.min(Math.max(at + delta, 0), usable.length - 1)];
  if (at === -1 || next.id !== state.current.id) openRecording(next.id);
}

// --- one recording ----------------------------------------------------------------------------

async function openRecording(id) {
  const detail = await api(`/api/recording/${enc(id)}?annotator=${encodeURIComponent(annotator())}`);
  state.current = detail;
  state.segments = structuredClone(detail.mine ? detail.mine.segments : detail.suggestions);
  state.reviewed = detail.mine ? detail.mine.reviewed : false;
  state.revision = detail.mine ? detail.mine.revision : 0;
  state.selected = 0;
  state.undo = [];
  state.conflict = false;
  clearAlert();
  $("recording-title").textContent = detail.id;
  setExportLinks(detail.id);
  renderInfo();
  buildWaveform(id);
  renderList();
  renderTable();
}

function renderInfo() {
  const detail = state.current;
  const saved = state.revision ? `your revision ${state.revision}` : "not annotated by you yet";
  const others = detail.others.map((o) => o.annotator).join(", ");
  $("recording-info").textContent =
    `${detail.duration_s.toFixed(2)} s · model ${detail.model_version ?? "none"} · ${saved}` +
    (others ? ` · also annotated by ${others}` : "");
}

function buildWaveform(id) {
  if (state.wavesurfer) state.wavesurfer.destroy();
  const regions = RegionsPlugin.create();
  const wavesurfer = WaveSurfer.create({
    container: "#waveform",
    url: `/api/audio/${enc(id)}`,
    height: 120,
    minPxPerSec: 400,
    waveColor: "#4a4a4a",
    progressColor: "#1f3f7a",
    cursorColor: "#b00020",
    plugins: [
      regions,
      TimelinePlugin.create({ timeInterval: 0.1, primaryLabelInterval: 5, secondaryLabelInterval: 1 }),
      SpectrogramPlugin.create({ container: "#spectrogram", labels: true, height: 160, frequencyMax: 8000 }),
    ],
  });
  wavesurfer.on("decode", renderRegions);
  wavesurfer.on("error", (err) => alertUser(`Cannot play ${id}: ${err}`));
  regions.on("region-updated", (region) => moveSegment(indexOf(region), region.start, region.end));
  regions.on("region-clicked", (region, event) => {
    event.stopPropagation();
    select(indexOf(region));
  });
  state.wavesurfer = wavesurfer;
  state.regions = regions;
}

const indexOf = (region) => Number(region.id.replace("seg-", ""));

function color(label, alpha) {
  const [r, g, b] = COLORS[label] ?? UNLABELLED;
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function topProbability(segment) {
  const probabilities = segment.suggested_probabilities;
  return probabilities ? Math.max(...Object.values(probabilities)) : null;
}

function regionText(segment) {
  const p = topProbability(segment);
  const score = p === null ? "" : ` ${p.toFixed(2)}`;
  if (segment.label === segment.suggested_label) return `${segment.label ?? "—"}${score}`;
  const model = segment.suggested_label ? ` (model: ${segment.suggested_label}${score})` : "";
  return `${segment.label ?? "—"}${model}`;
}

function renderRegions() {
  if (!state.regions || !state.wavesurfer.getDuration()) return;
  state.regions.clearRegions();
  state.segments.forEach((segment, i) => {
    const content = document.createElement("span");
    content.className = "region-label";
    content.textContent = regionText(segment);
    state.regions.addRegion({
      id: `seg-${i}`,
      start: segment.start_s,
      end: segment.end_s,
      color: color(segment.label, i === state.selected ? 0.5 : 0.22),
      drag: true,
      resize: true,
      minLength: MIN_SEGMENT_S,
      content,
    });
  });
}

function othersFor(segment) {
  const overlap = (a, b) => Math.max(0, Math.min(a.end_s, b.end_s) - Math.max(a.start_s, b.start_s));
  return state.current.others
    .map((other) => {
      const best = other.segments
        .filter((s) => s.label && s.labelled_by)
        .sort((a, b) => overlap(segment, b) - overlap(segment, a))[0];
      const union = best ? Math.max(segment.end_s, best.end_s) - Math.min(segment.start_s, best.start_s) : 1;
      return best && overlap(segment, best) / union >= 0.5 ? `${other.annotator}: ${best.label}` : null;
    })
    .filter(Boolean)
    .join(", ");
}

function renderTable() {
  const rows = state.segments.map((segment, i) => {
    const tr = document.createElement("tr");
    tr.dataset.index = i;
    tr.tabIndex = 0;
    if (i === state.selected) tr.setAttribute("aria-selected", "true");
    const p = topProbability(segment);
    const cells = [
      String(i + 1),
      segment.start_s.toFixed(3),
      segment.end_s.toFixed(3),
      segment.label ?? "—",
      segment.suggested_label ? `${segment.suggested_label}${p === null ? "" : ` (${p.toFixed(2)})`}` : "—",
      othersFor(segment) || "—",
      segment.labelled_by ? `${segment.labelled_by} ${segment.labelled_at ?? ""}` : "not confirmed",
    ];
    tr.replaceChildren(
      ...cells.map((text, column) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (column === 3) td.className = `label label-${segment.label ?? "none"}`;
        return td;
      }),
    );
    tr.addEventListener("click", () => select(i));
    tr.addEventListener("focus", () => select(i, false));
    return tr;
  });
  $("segments").tBodies[0].replaceChildren(...rows);
  $("reviewed").setAttribute("aria-pressed", String(state.reviewed));
  $("reviewed").textContent = state.reviewed ? "Reviewed ✓" : "Mark reviewed";
  $("reviewed").append(" ", Object.assign(document.createElement("kbd"), { textContent: "D" }));
}

function select(i, focusRow = false) {
  if (!state.segments.length) return;
  state.selected = Math.min(Math.max(i, 0), state.segments.length - 1);
  renderRegions();
  renderTable();
  if (focusRow) $("segments").tBodies[0].rows[state.selected].focus();
  const segment = state.segments[state.selected];
  status(`Segment ${state.selected + 1}: ${segment.start_s.toFixed(2)}–${segment.end_s.toFixed(2)} s, ${segment.label ?? "no label"}`);
}

// --- edits: each one is undoable and saved at once --------------------------------------------

function commit(action, mutate) {
  if (!state.current) return;
  if (!annotator()) {
    alertUser("Enter your annotator name first (letters, digits, '_', '.', '-').");
    $("annotator").focus();
    return;
  }
  if (state.conflict) return;
  state.undo.push(structuredClone({ segments: state.segments, reviewed: state.reviewed, selected: state.selected }));
  mutate();
  renderRegions();
  renderTable();
  save(action);
}

function stamp(segment) {
  return { ...segment, labelled_by: annotator(), labelled_at: new Date().toISOString() };
}

function setLabel(label) {
  commit("label", () => {
    state.segments[state.selected] = stamp({ ...state.segments[state.selected], label });
  });
  status(`Segment ${state.selected + 1} labelled ${label}`);
  if (state.selected < state.segments.length - 1) select(state.selected + 1);
}

function moveSegment(i, start, end) {
  const before = state.segments[i - 1];
  const after = state.segments[i + 1];
  const lo = before ? before.end_s : 0;
  const hi = after ? after.start_s : state.current.duration_s;
  const s = Math.max(lo, Math.min(start, hi - MIN_SEGMENT_S));
  const e = Math.min(hi, Math.max(end, s + MIN_SEGMENT_S));
  commit("move", () => {
    state.segments[i] = { ...state.segments[i], start_s: round(s), end_s: round(e) };
    state.selected = i;
  });
}

const round = (t) => Math.round(t * 10000) / 10000;

function split() {
  const segment = state.segments[state.selected];
  let at = state.wavesurfer.getCurrentTime();
  if (!(at > segment.start_s + MIN_SEGMENT_S && at < segment.end_s - MIN_SEGMENT_S)) {
    at = (segment.start_s + segment.end_s) / 2;
  }
  commit("split", () => {
    const left = { ...segment, end_s: round(at), origin: "split" };
    const right = { ...segment, start_s: round(at), origin: "split" };
    state.segments.splice(state.selected, 1, left, right);
  });
  status(`Split segment ${state.selected + 1} at ${at.toFixed(3)} s`);
}

function merge() {
  const i = state.selected;
  if (i >= state.segments.length - 1) {
    status("The last segment has no next segment to merge with");
    return;
  }
  commit("merge", () => {
    const [a, b] = [state.segments[i], state.segments[i + 1]];
    const agreed = a.label === b.label && a.labelled_by && b.labelled_by;
    const merged = {
      ...a,
      end_s: b.end_s,
      origin: "merge",
      labelled_by: agreed ? a.labelled_by : null,
      labelled_at: agreed ? a.labelled_at : null,
    };
    state.segments.splice(i, 2, merged);
  });
  status(`Merged segments ${i + 1} and ${i + 2}`);
}

function markReviewed() {
  commit("reviewed", () => {
    state.segments = state.segments.map((s) => (s.label && !s.labelled_by ? stamp(s) : s));
    state.reviewed = true;
  });
  status("Marked reviewed: every labelled segment is confirmed");
}

function undo() {
  const previous = state.undo.pop();
  if (!previous || state.conflict) {
    status("Nothing to undo");
    return;
  }
  Object.assign(state, structuredClone(previous));
  renderRegions();
  renderTable();
  save("undo");
  status("Undone");
}

// --- saving -----------------------------------------------------------------------------------

async function save(action) {
  if (state.saving) {
    state.pending = action;
    return;
  }
  state.saving = true;
  const id = state.current.id;
  const body = JSON.stringify({
    annotator: annotator(),
    base_revision: state.revision,
    segments: state.segments,
    reviewed: state.reviewed,
    action,
  });
  try {
    const saved = await api(`/api/annotation/${enc(id)}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body,
      keepalive: body.length < 60000,
    });
    if (state.current.id === id) {
      state.revision = saved.revision;
      renderInfo();
    }
    status(`Saved revision ${saved.revision} (${action}) at ${new Date(saved.saved_at).toLocaleTimeString()}`);
    document.body.dataset.savedRevision = String(saved.revision);
    if (action === "reviewed" || saved.revision === 1) loadList();
  } catch (err) {
    if (err.status === 409) {
      state.conflict = true;
      alertUser(`Not saved: ${err.message}`, { label: "Reload recording", run: () => openRecording(id) });
    } else {
      alertUser(`Not saved: ${err.message}`);
    }
  } finally {
    state.saving = false;
  }
  if (state.pending && !state.conflict) {
    const next = state.pending;
    state.pending = null;
    save(next);
  }
}

// --- keyboard ---------------------------------------------------------------------------------

function onKey(event) {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName);
  if (typing || event.altKey || !state.current) return;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
    return;
  }
  if (event.ctrlKey || event.metaKey) return;
  const label = state.config.classes[Number(event.key) - 1];
  const actions = {
    " ": () => state.wavesurfer.playPause(),
    p: playSegment,
    ArrowLeft: () => select(state.selected - 1, true),
    ArrowRight: () => select(state.selected + 1, true),
    s: split,
    m: merge,
    u: undo,
    d: markReviewed,
    "[": () => stepRecording(-1),
    "]": () => stepRecording(1),
  };
  const action = label ? () => setLabel(label) : actions[event.key];
  if (!action || (event.key === " " && event.target.tagName === "BUTTON")) return;
  event.preventDefault();
  action();
}

function playSegment() {
  const region = state.regions.getRegions().find((r) => r.id === `seg-${state.selected}`);
  if (region) region.play(true);
}

// --- start ------------------------------------------------------------------------------------

function labelButtons() {
  $("label-buttons").replaceChildren(
    ...state.config.classes.map((label, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `label-button label-${label}`;
      button.setAttribute("aria-keyshortcuts", String(i + 1));
      button.textContent = `${label.replace("_", "-")} `;
      button.append(Object.assign(document.createElement("kbd"), { textContent: String(i + 1) }));
      button.addEventListener("click", () => state.current && setLabel(label));
      return button;
    }),
  );
  const filter = $("filter-label");
  filter.append(...state.config.classes.map((label) => new Option(label, label)));
}

async function start() {
  state.config = await api("/api/config");
  const input = $("annotator");
  input.value = localStorage.getItem("vocalbaby.annotator") || state.config.default_annotator || "";
  if (state.config.signed_in) {
    input.value = state.config.signed_in; // your own token: you save as yourself only
    input.readOnly = true;
  }
  input.addEventListener("change", () => {
    if (!annotator()) {
      alertUser("Annotator names use 1-64 letters, digits, '_', '.' or '-'.");
      return;
    }
    clearAlert();
    localStorage.setItem("vocalbaby.annotator", annotator());
    loadList();
    if (state.current) openRecording(state.current.id);
  });
  $("model-version").textContent = `model: ${state.config.model_version ?? "none"} · source: ${state.config.source}`;
  labelButtons();
  for (const id of ["filter-label", "filter-confidence", "filter-status", "filter-disagreement"]) {
    $(id).addEventListener("input", renderList);
  }
  $("play").addEventListener("click", () => state.wavesurfer && state.wavesurfer.playPause());
  $("play-segment").addEventListener("click", () => state.current && playSegment());
  $("prev-segment").addEventListener("click", () => select(state.selected - 1));
  $("next-segment").addEventListener("click", () => select(state.selected + 1));
  $("split").addEventListener("click", () => state.current && split());
  $("merge").addEventListener("click", () => state.current && merge());
  $("undo").addEventListener("click", () => state.current && undo());
  $("reviewed").addEventListener("click", () => state.current && markReviewed());
  $("prev-recording").addEventListener("click", () => stepRecording(-1));
  $("next-recording").addEventListener("click", () => stepRecording(1));
  document.addEventListener("keydown", onKey);
  initStudio({ config: state.config, api, onUploaded: loadList });
  initModelPage(api);
  initExplorer(api);
  await loadList();
  document.body.dataset.ready = "true";
}

start().catch((err) => alertUser(`The page could not start: ${err.message}`));
