// cnnlab's page: following a run live (Server-Sent Events), training from the page.
"use strict";

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
    if (d.maps) {
      $("#train-maps").replaceChildren(...d.maps.maps.map((src) => {
        const img = new Image();
        img.src = src;
        return img;
      }));
      $("#train-maps-text").textContent = `its strongest feature maps for ${d.maps.image} ` +
        `(channels ${d.maps.channels.join(", ")}), after each epoch`;
    }
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
