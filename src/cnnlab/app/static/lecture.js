// cnnlab's page: the lecture as `cnnlab lecture` built it (GET /api/lecture), each section's
// figures from the book's folder (/lecture/files/...), and its live part in the other tabs.
"use strict";

const lec = { book: null, from: null };

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function loadLecture() {
  let b;
  try {
    b = await api("/api/lecture");
    $("#lecture-error").textContent = "";
  } catch (e) {
    $("#lecture-error").textContent = e.message;
    return;
  }
  lec.book = b;
  const head = $("#lecture-head");
  head.replaceChildren();
  $("#lecture-toc").replaceChildren();
  $("#lecture-sections").replaceChildren();
  $("#lecture-missing").textContent = "";
  if (!b.built) {
    head.append("No lecture built in ", el("code", "", b.folder), " yet: run ",
      el("code", "", "cnnlab lecture"), " (about 5 minutes; ",
      el("code", "", "cnnlab lecture --level full"),
      " for the long version, about an hour), then reload this tab.");
    return;
  }
  const ok = b.sections.filter((s) => !s.error);
  const held = ok.filter((s) => s.verdict === "holds").length;
  const differs = ok.filter((s) => s.verdict === "differs").length;
  head.append(`${b.sections.length} sections of the lecture, built on this machine in `,
    el("code", "", b.folder), `: the lecture's claim holds in ${held}, differs in ${differs}. ` +
    "Every figure was made by the command shown above it.");
  if (b.index) {
    const a = el("a", "", "the book as one page");
    a.href = "/lecture/files/index.html";
    a.target = "_blank";
    head.append(" ", a);
  }
  const toc = $("#lecture-toc");
  let part = null;
  b.sections.forEach((s) => {
    if (s.part !== part) {
      part = s.part;
      toc.append(el("span", "toc-part", part));
    }
    const a = el("a", "", s.title);
    a.href = `#lecture-${s.key}`;
    a.addEventListener("click", (e) => { e.preventDefault(); showSection(s.key); });
    toc.append(a);
  });
  $("#lecture-sections").replaceChildren(...b.sections.map(sectionView));
  if (b.missing.length) {
    $("#lecture-missing").textContent = `Not built yet: ${b.missing.join(", ")} ` +
      "(cnnlab lecture builds every section; --sections names a few).";
  }
  if (lec.from) showSection(lec.from);
}

function showSection(key) {
  const s = document.getElementById(`lecture-${key}`);
  if (s) s.scrollIntoView();
}

function sectionView(s) {
  const art = el("article", "lesson");
  art.id = `lecture-${s.key}`;
  art.dataset.key = s.key;
  art.append(el("p", "part", s.part), el("h2", "", s.title), el("p", "", s.point));
  const claim = el("blockquote");
  claim.append(el("strong", "", "The lecture: "), s.claim);
  art.append(claim);
  const m = el("div", "measured " + (s.error ? "failed" : s.verdict));
  if (s.error) {
    m.append(el("span", "badge failed", "not built"), el("span", "error", s.error));
  } else {
    m.append(el("span", `badge ${s.verdict}`, s.verdict), el("strong", "", "Measured here: "),
      s.measured);
    if (s.because) m.append(" ", el("em", "", s.because));
  }
  art.append(m);
  s.commands.forEach((c) => art.append(commandView(c)));
  s.figures.forEach((f) => {
    const fig = el("figure");
    const img = new Image();
    img.src = f.url;
    img.alt = f.caption;
    img.loading = "lazy";
    fig.append(img, el("figcaption", "", f.caption));
    art.append(fig);
  });
  s.tables.forEach((t) => art.append(tableView(t)));
  s.notes.forEach((n) => art.append(el("p", "note", n)));
  if (s.live_with) art.append(liveView(s));
  art.append(el("p", "note", `Built in ${s.seconds} on this machine.`));
  return art;
}

function commandView(text) {
  const box = el("div", "cmd");
  const code = el("code", "", text);
  const b = el("button", "copy", "copy");
  b.type = "button";
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {  // not a secure context (the app opened over the network): select and copy
      const r = document.createRange();
      r.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(r);
      document.execCommand("copy");
    }
    b.textContent = "copied";
    setTimeout(() => { b.textContent = "copy"; }, 1500);
  });
  box.append(el("pre"), b);
  box.firstChild.append(code);
  return box;
}

function tableView(t) {
  const box = el("div", "table-box");
  const table = el("table");
  if (t.caption) table.append(el("caption", "", t.caption));
  const head = el("tr");
  t.headers.forEach((h) => head.append(el("th", "", h)));
  table.append(el("thead"), el("tbody"));
  table.tHead.append(head);
  t.rows.forEach((row) => {
    const tr = el("tr");
    row.forEach((c) => tr.append(el("td", "", c)));
    table.tBodies[0].append(tr);
  });
  box.append(table);
  return box;
}

const LIVE_TEXT = {
  explainer: "open the explainer with this slide's numbers, and step through it cell by cell",
};

function liveView(s) {
  const box = el("div", "live");
  const lw = s.live_with;
  box.append(el("strong", "", "Try it live: "), (LIVE_TEXT[s.live] || lw.what) + ". ");
  const b = el("button", "", lw.tab === "explain" ? "open the explainer" : "try a model");
  b.type = "button";
  b.dataset.testid = `live-${s.key}`;
  const said = el("span", "live-msg");
  b.addEventListener("click", () => goLive(s, said));
  box.append(b, " ", said);
  return box;
}

async function goLive(s, said) {
  const lw = s.live_with;
  if (lw.tab === "explain") {
    const form = $("#explain-form");
    Object.entries(lw.settings).forEach(([k, v]) => { form.elements[k].value = String(v); });
    cameFrom(s);
    showTab("explain");
    window.scrollTo(0, 0);
    await loadExplain();
    return;
  }
  let runs;
  try {
    runs = (await api("/api/runs")).filter((c) => lw.tasks.includes(c.task) && c.weights);
  } catch (e) {
    said.textContent = e.message;
    return;
  }
  if (!runs.length) {
    said.replaceChildren(`No ${lw.kind} to try yet (a run of ${lw.tasks.join(" or ")}): `,
      el("code", "", lw.command), " trains one (or start it in the Train tab).");
    return;
  }
  said.textContent = "";
  cameFrom(s);
  showTab("try");
  window.scrollTo(0, 0);
  await loadTry(runs[0].id);  // the newest run of that kind
}

function cameFrom(s) {
  // the header's button back to the section a live part was opened from
  lec.from = s.key;
  const back = $("#lecture-back");
  back.textContent = `\u25C0 back to the lecture: ${s.title}`;
  back.hidden = false;
}

$("#lecture-back").addEventListener("click", () => {
  showTab("lecture");
  $("#lecture-back").hidden = true;
  if (lec.from) showSection(lec.from);
});
document.querySelector("nav button[data-tab=lecture]").addEventListener("click", () => {
  $("#lecture-back").hidden = true;
  loadLecture();  // read again: a book built (or rebuilt) since shows without a reload
});

// a link or a reload with #runs, #try, #train or #lecture opens that tab
{
  const tab = location.hash.slice(1);
  const start = [...document.querySelectorAll("header nav button")].find((b) => b.dataset.tab === tab);
  if (start) start.click();
}
