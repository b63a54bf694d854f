// cnnlab's page: the convolution explainer and the runs, over the JSON API under /api/.
"use strict";

const $ = (sel) => document.querySelector(sel);

async function api(path) {
  const r = await fetch(path);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.detail || `${r.status} ${r.statusText}`);
  return body;
}

function fmt(v) {
  if (v === null || v === undefined) return "-inf";
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
}

// ---- tabs ------------------------------------------------------------------------------------
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll("nav button, .tab").forEach((e) => e.classList.remove("active"));
  b.classList.add("active");
  $("#" + b.dataset.tab).classList.add("active");
  if (b.dataset.tab === "runs") loadRuns();
}));

// ---- explainer -------------------------------------------------------------------------------
const ex = { data: null, frame: 0, timer: null };

function explainQuery() {
  const f = new FormData($("#explain-form"));
  const v = Object.fromEntries(f.entries());
  const conv = v.op === "conv";
  document.querySelectorAll(".conv-only").forEach((e) => { e.hidden = !conv; });
  if (conv) {
    return `/api/explain/conv?size=${v.size}&kernel=${v.kernel}&stride=${v.stride}` +
      `&padding=${v.padding}&dilation=${v.dilation}&channels=${v.channels}&seed=${v.seed}`;
  }
  const global = v.op.startsWith("g");
  const kind = v.op.replace("g", "");
  const k = global ? v.size : v.kernel;
  const s = global ? v.size : v.stride;
  const p = global ? 0 : v.padding;
  return `/api/explain/pool?size=${v.size}&kernel=${k}&kind=${kind}&stride=${s}&padding=${p}` +
    `&seed=${v.seed}`;
}

async function loadExplain() {
  stop();
  try {
    ex.data = await api(explainQuery());
    $("#explain-error").textContent = "";
  } catch (e) {
    $("#explain-error").textContent = e.message;
    return;
  }
  ex.frame = 0;
  $("#scrub").max = ex.data.frames.length - 1;
  $("#explain-title").textContent = ex.data.title;
  $("#explain-formula").textContent = ex.data.formula;
  $("#kernel-box").hidden = ex.data.w === null;
  drawFrame();
}

function grid(values, cls, id) {
  // values: rows of numbers; cls(i, j) -> class names; id(i, j) -> data-testid or ""
  const g = document.createElement("div");
  g.className = "grid";
  g.style.gridTemplateColumns = `repeat(${values[0].length}, auto)`;
  values.forEach((row, i) => row.forEach((v, j) => {
    const s = document.createElement("span");
    s.textContent = fmt(v);
    s.className = cls(i, j);
    const t = id(i, j);
    if (t) s.dataset.testid = t;
    g.appendChild(s);
  }));
  return g;
}

function drawFrame() {
  const d = ex.data;
  const f = d.frames[ex.frame];
  const p = d.padding;
  const n = d.padded[0].length;
  const taps = new Set();
  if (f.window) f.window[0].forEach((r) => f.window[1].forEach((c) => taps.add(`${r},${c}`)));
  const gin = $("#grid-in");
  gin.replaceChildren();
  d.padded.forEach((plane, c) => {
    if (d.padded.length > 1) {
      const name = document.createElement("div");
      name.className = "plane-name";
      name.textContent = ["R", "G", "B", "A"][c] || `c${c + 1}`;
      gin.appendChild(name);
    }
    gin.appendChild(grid(plane, (i, j) => {
      const pad = i < p || j < p || i >= n - p || j >= n - p;
      return (pad ? "pad " : "") + (taps.has(`${i},${j}`) ? "tap" : "");
    }, () => ""));
  });
  const gw = $("#grid-w");
  gw.replaceChildren();
  if (d.w) d.w.forEach((plane) => gw.appendChild(grid(plane, () => "", () => "")));
  const done = f.out === null;
  const cells = d.output[0].length;
  $("#grid-out").replaceChildren(grid(d.output, (i, j) => {
    const k = i * cells + j;
    if (!done && k === ex.frame) return "now";
    return !done && k > ex.frame ? "todo" : "";
  }, (i, j) => `out-${i}-${j}`));
  $("#frame-text").textContent = f.text;
  $("#scrub").value = ex.frame;
  $("#frame-no").textContent = `${ex.frame + 1} / ${d.frames.length}`;
}

function go(k) {
  if (!ex.data) return;
  ex.frame = Math.max(0, Math.min(ex.data.frames.length - 1, k));
  drawFrame();
}
function stop() {
  clearInterval(ex.timer);
  ex.timer = null;
  $("#play").textContent = "play";
}
$("#play").addEventListener("click", () => {
  if (ex.timer) return stop();
  if (ex.data && ex.frame === ex.data.frames.length - 1) go(0);
  $("#play").textContent = "pause";
  ex.timer = setInterval(() => {
    if (ex.frame >= ex.data.frames.length - 1) return stop();
    go(ex.frame + 1);
  }, 700);
});
$("#step").addEventListener("click", () => { stop(); go(ex.frame + 1); });
$("#back").addEventListener("click", () => { stop(); go(ex.frame - 1); });
$("#scrub").addEventListener("input", (e) => { stop(); go(Number(e.target.value)); });
$("#explain-form").addEventListener("change", loadExplain);
loadExplain();

// ---- runs ------------------------------------------------------------------------------------
const rs = { cards: [], chosen: new Set(), charts: {} };

async function loadRuns() {
  try {
    rs.cards = await api("/api/runs");
    $("#runs-error").textContent = rs.cards.length ? "" : "No runs yet: train one (cnnlab train).";
  } catch (e) {
    $("#runs-error").textContent = e.message;
    return;
  }
  const box = $("#run-cards");
  box.replaceChildren();
  rs.cards.forEach((c) => {
    const el = document.createElement("div");
    el.className = "card";
    el.dataset.testid = `card-${c.id}`;
    const shown = Object.entries(c.metrics).slice(0, 3)
      .map(([k, v]) => `${k} ${v <= 1 ? (100 * v).toFixed(1) + "%" : v.toFixed(3)}`).join(", ");
    el.innerHTML = `<h4></h4><span class="status ${c.status}">${c.status}</span>
      <div class="facts"></div><div class="metrics"></div>
      <label><input type="checkbox"> compare</label> <button type="button">open</button>`;
    el.querySelector("h4").textContent = c.id;
    el.querySelector(".facts").textContent = `${c.task} · ${c.model} · ${c.data} · ${c.epochs} epochs`;
    el.querySelector(".metrics").textContent = shown;
    const tick = el.querySelector("input");
    tick.checked = rs.chosen.has(c.id);
    tick.addEventListener("change", () => {
      if (tick.checked) rs.chosen.add(c.id); else rs.chosen.delete(c.id);
      drawCompare();
    });
    el.querySelector("button").addEventListener("click", () => openRun(c.id));
    box.appendChild(el);
  });
}

function chart(key, target, title, series) {
  // series: [{label, x: [...], y: [...]}] drawn on one uPlot chart (x: epochs)
  if (rs.charts[key]) rs.charts[key].destroy();
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const data = [xs, ...series.map((s) => xs.map((x) => {
    const i = s.x.indexOf(x);
    return i < 0 ? null : s.y[i];
  }))];
  const colours = ["#d9480f", "#1971c2", "#2f9e44", "#9c36b5", "#e67700", "#0c8599"];
  const width = Math.min(720, target.parentElement.clientWidth || 720);
  rs.charts[key] = new uPlot({
    title, width, height: 300, scales: { x: { time: false } },
    axes: [{ label: "epoch" }, {}],
    series: [{ label: "epoch" }, ...series.map((s, i) => ({
      label: s.label, stroke: colours[i % colours.length], width: 2, spanGaps: true,
    }))],
  }, data, target);
}

function metricNames(rows) {
  const names = new Set();
  rows.forEach((r) => Object.keys(r).forEach((k) => names.add(k)));
  ["epoch", "time", "lr"].forEach((k) => names.delete(k));
  return [...names];
}

function fillSelect(sel, names, preferred) {
  const old = sel.value;
  sel.replaceChildren(...names.map((n) => new Option(n, n)));
  sel.value = names.includes(old) ? old : (names.find((n) => n === preferred) || names[0] || "");
}

async function openRun(id) {
  let d;
  try { d = await api(`/api/run?id=${encodeURIComponent(id)}`); } catch (e) {
    $("#runs-error").textContent = e.message;
    return;
  }
  $("#run-detail").hidden = false;
  $("#run-title").textContent = d.id;
  $("#run-facts").textContent = `${d.task} · ${d.model} · ${d.data} · ${d.status} · ` +
    Object.entries(d.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ");
  $("#run-config").textContent = JSON.stringify(d.config, null, 2);
  const sel = $("#run-metric");
  fillSelect(sel, metricNames(d.curves), "val/acc");
  const draw = () => chart("run", $("#run-chart"), sel.value, [{
    label: sel.value, x: d.curves.map((r) => r.epoch), y: d.curves.map((r) => r[sel.value]),
  }]);
  sel.onchange = draw;
  if (d.curves.length) draw();
  if (rs.live) rs.live.close();
  if (d.status === "running") {  // a run training now (from here or the CLI): follow it
    rs.live = follow(id, (row) => {
      d.curves.push(row);
      fillSelect(sel, metricNames(d.curves), "val/acc");
      draw();
    }, (s) => { $("#run-facts").dataset.status = s; }, d.curves.length);
  }
  const figs = $("#run-figures");
  figs.replaceChildren(...d.figures.map((name) => {
    const img = new Image();
    img.src = `/api/run/file?id=${encodeURIComponent(id)}&name=${encodeURIComponent(name)}`;
    img.alt = name;
    return img;
  }));
  const rep = $("#run-report");
  rep.hidden = !d.report;
  rep.href = `/api/run/file?id=${encodeURIComponent(id)}&name=report.html`;
  $("#run-detail").scrollIntoView({ behavior: "smooth" });
}

async function drawCompare() {
  const ids = [...rs.chosen];
  $("#compare-box").hidden = ids.length < 2;
  if (ids.length < 2) return;
  const runs = await Promise.all(ids.map((id) => api(`/api/run?id=${encodeURIComponent(id)}`)));
  const sel = $("#compare-metric");
  fillSelect(sel, metricNames(runs.flatMap((r) => r.curves)), "val/acc");
  const draw = () => chart("compare", $("#compare-chart"), sel.value, runs.map((r) => ({
    label: r.id, x: r.curves.map((c) => c.epoch), y: r.curves.map((c) => c[sel.value] ?? null),
  })));
  sel.onchange = draw;
  draw();
}

// ---- try a model -----------------------------------------------------------------------------
async function loadTry() {
  const runs = (await api("/api/runs")).filter((c) => ["classify", "transfer"].includes(c.task)
    && c.weights);
  const sel = $("#try-run");
  const old = sel.value;
  sel.replaceChildren(...runs.map((c) => new Option(`${c.id} (${c.model})`, c.id)));
  if (runs.some((c) => c.id === old)) sel.value = old;
  if (!runs.length) $("#try-error").textContent = "No classification runs yet: cnnlab train.";
  const ex = await api("/api/examples");
  $("#try-examples").replaceChildren(...ex.map((e) => {
    const img = new Image();
    img.src = `/api/example?file=${encodeURIComponent(e.file)}`;
    img.alt = img.title = `${e.label}: ${e.text}`;
    img.dataset.file = e.file;
    img.addEventListener("click", async () => {
      const blob = await (await fetch(img.src)).blob();
      tryFile(blob, e.file);
    });
    return img;
  }));
}

async function tryFile(blob, name) {
  const id = $("#try-run").value;
  if (!id) return;
  const form = new FormData();
  form.append("file", blob, name);
  const q = `/api/run/try?id=${encodeURIComponent(id)}&invert=${$("#try-invert").value}`;
  let d;
  try {
    const r = await fetch(q, { method: "POST", body: form });
    d = await r.json();
    if (!r.ok) throw new Error(d.detail || r.statusText);
  } catch (e) {
    $("#try-error").textContent = e.message;
    return;
  }
  $("#try-error").textContent = "";
  $("#try-result").hidden = false;
  $("#try-input").src = d.input;
  $("#try-classes").replaceChildren(...d.top.map(([c, p]) => {
    const li = document.createElement("li");
    li.textContent = `${c} ${(100 * p).toFixed(1)}%`;
    return li;
  }));
  $("#try-notes").textContent = d.notes.join(" ");
  $("#try-layers").replaceChildren(...d.layers.map((l) => {
    const box = document.createElement("div");
    box.className = "layer";
    const h = document.createElement("h4");
    h.textContent = `${l.name}: ${l.label} [${l.shape.join("x")}]`;
    box.appendChild(h);
    l.maps.forEach((src, i) => {
      const img = new Image();
      img.src = src;
      img.alt = `${l.name} map ${i}`;
      img.addEventListener("click", () => {
        $("#try-large").hidden = false;
        $("#large-map").src = src;
        $("#large-kernel").src = l.kernels[i];
        $("#large-text").textContent = `${l.name}, channel ${i}: the map (left) and its ` +
          "kernel (right; mean over input channels, red positive, blue negative)";
      });
      box.appendChild(img);
    });
    return box;
  }));
}

// the drawing pad: white strokes on black, as Fashion-MNIST's images are
const pad = $("#pad");
const ink = pad.getContext("2d");
function clearPad() { ink.fillStyle = "#000"; ink.fillRect(0, 0, pad.width, pad.height); }
clearPad();
let drawing = false;
function stroke(e) {
  if (!drawing) return;
  const r = pad.getBoundingClientRect();
  const x = (e.clientX - r.left) * pad.width / r.width;
  const y = (e.clientY - r.top) * pad.height / r.height;
  ink.fillStyle = "#fff";
  ink.beginPath();
  ink.arc(x, y, 14, 0, 2 * Math.PI);
  ink.fill();
}
pad.addEventListener("pointerdown", (e) => { drawing = true; stroke(e); });
pad.addEventListener("pointermove", stroke);
window.addEventListener("pointerup", () => { drawing = false; });
$("#pad-clear").addEventListener("click", clearPad);
$("#pad-try").addEventListener("click", () => pad.toBlob((b) => tryFile(b, "drawing.png")));
$("#try-file").addEventListener("change", (e) => {
  const f = e.target.files[0];
  if (f) tryFile(f, f.name);
});
const drop = $("#drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer.files[0];
  if (f) tryFile(f, f.name);
});
document.querySelector("nav button[data-tab=try]").addEventListener("click", loadTry);

// ---- live: follow a run's metrics as they are written (Server-Sent Events) -------------------
function follow(id, onRow, onStatus, after = 0) {
  const src = new EventSource(`/api/run/stream?id=${encodeURIComponent(id)}&after=${after}`);
  src.addEventListener("row", (e) => onRow(JSON.parse(e.data)));
  src.addEventListener("status", (e) => {
    const s = JSON.parse(e.data).status;
    onStatus(s);
    if (s !== "running") src.close();
  });
  src.onerror = () => src.close();
  return src;
}

// ---- train and watch -------------------------------------------------------------------------
const tr = { rows: [], source: null, id: null, epochs: 0, task: "" };

function drawTrain() {
  const sel = $("#train-metric");
  fillSelect(sel, metricNames(tr.rows), "val/acc");
  if (!tr.rows.length || !sel.value) return;
  chart("train", $("#train-chart"), sel.value, [{
    label: sel.value, x: tr.rows.map((r) => r.epoch), y: tr.rows.map((r) => r[sel.value] ?? null),
  }]);
}
$("#train-metric").addEventListener("change", drawTrain);

function trainStatus(state) {
  const last = tr.rows[tr.rows.length - 1];
  let text = `${tr.id}: ${state}`;
  if (last) {
    const per = last.time / last.epoch;
    const left = Math.max(0, (tr.epochs - last.epoch) * per);
    text += ` · epoch ${last.epoch}/${tr.epochs}`;
    const unit = tr.task === "keywords" ? "clips" : tr.task === "text" ? "texts" : "images";
    if (last.img_per_s) text += ` · ${Math.round(last.img_per_s)} ${unit}/s`;
    if (state === "running") text += ` · about ${Math.round(left)} s left`;
  }
  $("#train-status").textContent = text;
  const running = state === "running";
  $("#train-start").disabled = running;
  $("#train-stop").disabled = !running;
}

async function refreshKernels() {
  try {
    const d = await api(`/api/run/kernels?id=${encodeURIComponent(tr.id)}`);
    $("#train-kernels").src = d.png;
  } catch (e) { /* no weights yet, or an MLP */ }
}

async function watch(id, epochs, task) {
  if (tr.source) tr.source.close();
  Object.assign(tr, { rows: [], id, epochs, task });
  trainStatus("running");
  tr.source = follow(id, (row) => {
    tr.rows.push(row);
    drawTrain();
    trainStatus("running");
    refreshKernels();
  }, async (state) => {
    const job = await api("/api/train").catch(() => null);
    if (job && job.name === id) $("#train-log").textContent = job.log.join("\n");
    trainStatus(state);
  });
}

$("#train-start").addEventListener("click", async () => {
  const v = Object.fromEntries(new FormData($("#train-form")).entries());
  const task = v.task;
  delete v.task;
  $("#train-error").textContent = "";
  const r = await fetch("/api/train", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ task, options: v }),
  });
  const d = await r.json();
  if (!r.ok) { $("#train-error").textContent = d.detail || r.statusText; return; }
  watch(d.id, Number(v.epochs || 0), task);
});
$("#train-stop").addEventListener("click", async () => {
  const r = await fetch("/api/train/stop", { method: "POST" });
  const d = await r.json();
  if (!r.ok) $("#train-error").textContent = d.detail || r.statusText;
  else $("#train-log").textContent = d.log.join("\n");
});
document.querySelector("nav button[data-tab=train]").addEventListener("click", async () => {
  const job = await api("/api/train").catch(() => null);
  if (job && job.state === "running" && tr.id !== job.name) {
    const epochs = Number((job.argv[job.argv.indexOf("--epochs") + 1]) || 0);
    watch(job.name, epochs, job.task);
  }
});
