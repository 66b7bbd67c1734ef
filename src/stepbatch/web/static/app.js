// stepbatch web status page: polls /api/status and redraws the tables (plain JS, no build step).
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("config").textContent);
  const L = config.labels;
  const cluster = config.mode === "cluster";
  if (cluster) document.body.classList.add("cluster");
  if (cluster) document.getElementById("age-head").textContent = L.heartbeat;
  const tokenInput = document.getElementById("token");
  if (cluster && config.actions) {
    document.getElementById("actions-bar").hidden = false;
    tokenInput.value = sessionStorage.getItem("sb_token") || "";
    tokenInput.addEventListener("change", () => sessionStorage.setItem("sb_token", tokenInput.value));
  } else if (cluster) {
    document.getElementById("actions-off").hidden = false;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function duration(s) {
    if (s === null || s === undefined) return "-";
    s = Math.round(s);
    if (s >= 3600) return Math.floor(s / 3600) + "h" + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
    if (s >= 60) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
    return s + "s";
  }

  function spark(values) {
    if (!values || values.length < 2) return null;
    const w = 60, h = 16, lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
    const pts = values.map((v, i) => (i * w / (values.length - 1)).toFixed(1) + "," + (h - 1 - (v - lo) * (h - 2) / span).toFixed(1));
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "spark"); svg.setAttribute("width", w); svg.setAttribute("height", h);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", pts.join(" "));
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = Math.round(lo) + "–" + Math.round(hi) + " MB";
    svg.append(title, line);
    return svg;
  }

  function count(done, total, more) {
    if (done === null || done === undefined) return "-";
    const t = total === null || total === undefined ? "?" : total + (more ? "+" : "");
    return done + " / " + t;
  }

  function links(r) {
    const td = el("td", { class: "links" });
    if (r.report) td.append(el("a", { class: "report", href: r.report, target: "_blank", text: L.report }));
    else if (r.live_report) td.append(el("a", { class: "live-report", href: r.live_report, target: "_blank", text: L.live_report }));
    (r.screenshots || []).forEach((url, i) => td.append(el("a", { class: "shot", href: url, target: "_blank", text: L.screenshot + " " + (i + 1) })));
    return td;
  }

  function actionCell(r) {
    const td = el("td", { class: "cluster-only" });
    if (!cluster) return td;
    for (const what of ["cancel", "requeue"]) {
      const b = el("button", { type: "button", class: what, disabled: config.actions ? null : "disabled", text: L[what] });
      b.addEventListener("click", () => act(what, r));
      td.append(b);
    }
    return td;
  }

  async function act(what, r) {
    if (!confirm(L["confirm_" + what] + "\n" + r.account + " " + r.step)) return;
    const out = document.getElementById("action-result");
    const res = await fetch("/api/" + what + "/" + encodeURIComponent(r.account) + "/" + encodeURIComponent(r.step), {
      method: "POST", headers: { Authorization: "Bearer " + tokenInput.value }, credentials: "same-origin",
    });
    out.textContent = res.status + " " + (await res.text());
    poll();
  }

  function accountRow(r) {
    const now = [r.code, r.product].filter(Boolean).join(" · ") || "-";
    const mem = el("td", { class: "memory num", text: r.browser_mb === null || r.browser_mb === undefined ? "-" : String(Math.round(r.browser_mb)) });
    const line = spark(r.memory);
    if (line) mem.append(line);
    return el("tr", { "data-account": r.account, "data-step": r.step },
      el("td", { class: "account", text: r.account }),
      el("td", { class: "step", text: r.step + (r.server ? " " + r.server : "") }),
      el("td", {}, el("span", { class: "status st-" + r.status, "data-status": r.status, text: L["st_" + r.status] || r.status })),
      el("td", { class: "worker", text: r.worker || "-" }),
      el("td", { class: "current", text: now }),
      el("td", { class: "products num", text: count(r.products_done, r.products_found, r.products_more) }),
      el("td", { class: "codes num", text: count(r.codes_done, r.codes_total, false) }),
      el("td", { class: "eta num", text: duration(r.eta_s) }),
      mem,
      el("td", { class: "retries num", text: (r.retries ?? "-") + " / " + (r.relogins ?? "-") }),
      el("td", { class: "age num", text: duration(r.heartbeat_age_s) }),
      el("td", { class: "error", text: r.last_error || "" }),
      links(r),
      actionCell(r));
  }

  function workerRow(w) {
    return el("tr", { "data-worker": w.name },
      el("td", { text: w.name }), el("td", { text: w.host || "-" }), el("td", { class: "num", text: String(w.pid ?? "-") }),
      el("td", { class: "num", text: String(w.concurrency ?? "-") }), el("td", { class: "num", text: String(w.jobs_running ?? "-") }),
      el("td", { class: "num", text: String(w.browsers_open ?? "-") }),
      el("td", { class: "num", text: w.memory_mb === null || w.memory_mb === undefined ? "-" : String(Math.round(w.memory_mb)) }),
      el("td", { class: "num", text: duration(w.heartbeat_age_s) }),
      el("td", { class: "alive", text: w.alive ? L.yes : L.no }));
  }

  function render(data) {
    document.getElementById("source").textContent = data.source;
    document.getElementById("updated").textContent = L.updated + " " + new Date().toLocaleTimeString();
    document.querySelector("#accounts tbody").replaceChildren(...data.accounts.map(accountRow));
    document.getElementById("no-rows").hidden = data.accounts.length > 0;
    if (cluster) {
      document.getElementById("workers-section").hidden = false;
      document.querySelector("#workers tbody").replaceChildren(...data.workers.map(workerRow));
    }
  }

  let timer = null;
  async function poll() {
    clearTimeout(timer);
    try {
      const res = await fetch("/api/status", { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) throw new Error(res.status);
      render(await res.json());
      document.getElementById("offline").hidden = true;
    } catch (e) {
      document.getElementById("offline").hidden = false;
    }
    timer = setTimeout(poll, config.poll_ms);
  }
  poll();
})();
