// cnnlab's page: trying a run on a drawing, an image, a text or a sound file.
"use strict";

// ---- try a model -----------------------------------------------------------------------------
async function loadTry(want) {
  // the runs that can be tried; `want`: the run to choose (else the one chosen stays)
  const runs = (await api("/api/runs")).filter((c) =>
    ["classify", "transfer", "text", "keywords", "segment", "autoencode"].includes(c.task) && c.weights);
  const sel = $("#try-run");
  const old = want || sel.value;
  sel.replaceChildren(...runs.map((c) => {
    const o = new Option(`${c.id} (${c.task}, ${c.model})`, c.id);
    o.dataset.task = c.task;
    return o;
  }));
  if (runs.some((c) => c.id === old)) sel.value = old;
  showInputs();
  if (!runs.length) $("#try-error").textContent = "No runs to try yet: cnnlab train (or autoencode, segment, text, keywords).";
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

function runTask() {
  const o = $("#try-run").selectedOptions[0];
  return o ? o.dataset.task : "";
}

function showInputs() {
  const task = runTask();
  $("#try-text-box").hidden = task !== "text";
  $("#try-sound-box").hidden = task !== "keywords";
  $("#try-image-box").hidden = task === "text" || task === "keywords";
  $("#try-invert").parentElement.hidden = task === "text" || task === "keywords";
  $("#try-result").hidden = true;
}
$("#try-run").addEventListener("change", showInputs);

function tokensView(d) {
  // each token coloured by its share of the prediction: orange for, blue against
  const top = Math.max(1e-9, ...d.tokens.map((t) => Math.abs(t.score)));
  const out = [];
  let at = 0;
  d.tokens.forEach((t) => {
    if (t.start > at) out.push(document.createTextNode(d.text.slice(at, t.start)));
    const s = document.createElement("span");
    s.textContent = d.text.slice(t.start, t.end);
    const a = Math.abs(t.score) / top;
    s.style.background = t.score >= 0 ? `rgba(230,119,0,${a})` : `rgba(25,113,194,${a})`;
    s.title = `share ${t.score.toFixed(3)}`;
    out.push(s);
    at = t.end;
  });
  if (at < d.text.length) out.push(document.createTextNode(d.text.slice(at)));
  return out;
}

async function tryText() {
  const form = new FormData();
  form.append("text", $("#try-text").value);
  return send(form);
}
$("#try-text-go").addEventListener("click", tryText);
$("#try-wav").addEventListener("change", (e) => {
  const f = e.target.files[0];
  if (f) tryFile(f, f.name);
});

async function tryFile(blob, name) {
  const form = new FormData();
  form.append("file", blob, name);
  return send(form);
}

async function send(form) {
  const id = $("#try-run").value;
  if (!id) return;
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
  $("#try-input").hidden = !d.input;
  if (d.input) $("#try-input").src = d.input;
  const wide = { keywords: "303px", segment: "256px", autoencode: "auto" };
  $("#try-input").style.width = wide[runTask()] || "";
  $("#try-tokens").replaceChildren(...(d.tokens ? tokensView(d) : []));
  $("#try-classes").replaceChildren(...d.top.map(([c, p]) => {
    const li = document.createElement("li");
    li.textContent = `${c} ${(100 * p).toFixed(1)}%${d.shares ? " " + d.shares : ""}`;
    return li;
  }));
  const said = d.summary ? [`${d.panels.join(" | ")}: ${d.summary}.`] : [];
  $("#try-notes").textContent = [...said, ...(d.notes || [])].join(" ") +
    (d.method ? ` (${d.method})` : "");
  $("#try-layers").replaceChildren(...(d.layers || []).map((l) => {
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
document.querySelector("nav button[data-tab=try]").addEventListener("click", () => loadTry());

