// cnnlab's page: the runs tab (cards, a run's curves and figures, comparison).
"use strict";

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
    const share = /acc|f1|iou|dice|recall|precision/i;
    const shown = Object.entries(c.metrics).slice(0, 3)
      .map(([k, v]) => `${k} ${share.test(k) && v <= 1 ? (100 * v).toFixed(1) + "%" : v.toFixed(3)}`)
      .join(", ");
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
  rs.charts[key] = new uPlot({
    title, width: chartWidth(target), height: 300, scales: { x: { time: false } },
    axes: [{ label: "epoch" }, {}],
    series: [{ label: "epoch" }, ...series.map((s, i) => ({
      label: s.label, stroke: colours[i % colours.length], width: 2, spanGaps: true,
    }))],
  }, data, target);
}

function chartWidth(target) {
  return Math.min(720, target.parentElement.clientWidth || 720);
}

// a turned phone or a resized window: every chart takes its box's new width
window.addEventListener("resize", () => {
  Object.values(rs.charts).forEach((c) => {
    const box = c.root.parentElement;
    if (c.root.isConnected && box.parentElement.clientWidth) c.setSize({ width: chartWidth(box), height: 300 });
  });
});

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

