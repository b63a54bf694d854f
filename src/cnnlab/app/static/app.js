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
function showTab(name) {
  // the tab `name` shown (its button marked), and named in the address (#name: a reload or a
  // link opens it); the tabs' own loading is done by their buttons' click handlers
  document.querySelectorAll("header nav button, .tab").forEach((e) => e.classList.remove("active"));
  $(`header nav button[data-tab=${name}]`).classList.add("active");
  $("#" + name).classList.add("active");
  history.replaceState(null, "", "#" + name);
}
document.querySelectorAll("header nav button").forEach((b) => b.addEventListener("click", () => {
  showTab(b.dataset.tab);
  if (b.dataset.tab === "runs") loadRuns();
}));

// ---- explainer -------------------------------------------------------------------------------
const ex = { data: null, frame: 0, timer: null, asked: 0 };

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
  const mine = ++ex.asked;  // the latest settings win, whichever answer comes back last
  let d;
  try {
    d = await api(explainQuery());
  } catch (e) {
    if (mine === ex.asked) $("#explain-error").textContent = e.message;
    return;
  }
  if (mine !== ex.asked) return;
  ex.data = d;
  $("#explain-error").textContent = "";
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

