// The tenant app's small enhancements. Every page works without this file.
"use strict";

// "/" or Ctrl+K moves to the page's search field, where there is one.
document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement
    || event.target instanceof HTMLSelectElement;
  const search = document.querySelector("#top-q") || document.querySelector("input[type=search]");
  if (!search) return;
  if ((event.key === "/" && !typing) || (event.key === "k" && (event.ctrlKey || event.metaKey))) {
    event.preventDefault();
    search.focus();
  }
});

// The board: drag a card onto another stage's column to move it. The drop only chooses the
// stage in the card's own "Move to" form and submits it, so the server does exactly what it
// does for the form without JavaScript (and for a keyboard user).
document.querySelectorAll("[data-board]").forEach((board) => {
  let dragged = null;
  board.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("[data-deal]");
    if (dragged) event.dataTransfer.setData("text/plain", dragged.dataset.deal);
  });
  board.querySelectorAll("[data-stage]").forEach((column) => {
    column.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      column.classList.remove("drop-target");
      const form = dragged && dragged.querySelector("form.move");
      dragged = null;
      if (!form) return;
      const select = form.querySelector("select[name=stage_id]");
      if (select.value === column.dataset.stage) return;
      select.value = column.dataset.stage;
      form.requestSubmit();
    });
  });
});

// Type-ahead in the top bar: results grouped by kind while typing. Without this file the box
// is a form that opens the search page.
document.querySelectorAll("input[data-typeahead]").forEach((input) => {
  const box = document.getElementById(input.getAttribute("aria-controls"));
  const base = input.dataset.typeahead.replace(/\/api\/v1\/search$/, "");
  const groups = [["contacts", "Contacts"], ["companies", "Companies"], ["deals", "Deals"], ["activities", "Activities"]];
  let timer = null;
  let asked = 0;
  const close = () => { box.hidden = true; input.setAttribute("aria-expanded", "false"); };
  const options = () => Array.from(box.querySelectorAll("a"));
  const select = (index) => {
    const all = options();
    all.forEach((a, i) => a.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (all[index]) all[index].scrollIntoView({ block: "nearest" });
  };
  const show = (results) => {
    box.replaceChildren();
    let count = 0;
    for (const [key, title] of groups) {
      const hits = results[key] || [];
      if (hits.length === 0) continue;
      const heading = document.createElement("h3");
      heading.textContent = title;
      box.append(heading);
      for (const hit of hits) {
        const link = document.createElement("a");
        link.setAttribute("role", "option");
        link.href = key === "activities"
          ? `${base}/search?q=${encodeURIComponent(input.value)}`
          : `${base}/${key}/${encodeURIComponent(hit.id)}`;
        link.textContent = hit.title || "(untitled)";
        box.append(link);
        count += 1;
      }
    }
    box.hidden = count === 0;
    input.setAttribute("aria-expanded", count === 0 ? "false" : "true");
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { close(); return; }
    timer = setTimeout(async () => {
      const mine = ++asked;
      try {
        const response = await fetch(`${input.dataset.typeahead}?q=${encodeURIComponent(q)}&limit=5`,
          { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok || mine !== asked) return;
        show(await response.json());
      } catch (_) { close(); }
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    const all = options();
    const current = all.findIndex((a) => a.getAttribute("aria-selected") === "true");
    if (event.key === "ArrowDown" && !box.hidden) { event.preventDefault(); select(Math.min(current + 1, all.length - 1)); }
    else if (event.key === "ArrowUp" && !box.hidden) { event.preventDefault(); select(Math.max(current - 1, 0)); }
    else if (event.key === "Enter" && current >= 0) { event.preventDefault(); all[current].click(); }
    else if (event.key === "Escape") { close(); }
  });
  input.addEventListener("blur", () => setTimeout(close, 200));
});

// Copy buttons: the text of the element they name. Without this file the text is there to
// select by hand.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    } catch (_) {
      window.getSelection().selectAllChildren(source);
    }
  });
});

// Dates and times in the reader's own locale and time zone; the page states them in UTC
// (ISO 8601) for readers without this file.
document.querySelectorAll("time[datetime]").forEach((time) => {
  const when = new Date(time.getAttribute("datetime"));
  if (Number.isNaN(when.getTime())) return;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(time.getAttribute("datetime"));
  time.textContent = dateOnly
    ? when.toLocaleDateString(undefined, { timeZone: "UTC" })
    : when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  time.title = time.getAttribute("datetime");
});

// A one-time link keeps its token in the fragment, which browsers never send: copy it into
// the form and hide the field that asks for it (shown to readers without this file).
document.querySelectorAll("form[data-link-token]").forEach((form) => {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const field = form.querySelector("#token");
  if (token && field && !field.value) field.value = token;
  if (field && field.value) form.querySelector(".token-field").hidden = true;
});

// A running import: its progress bar follows the import (asked of the API each second) and
// the page reloads when it ends. Without this file the page has a link to refresh it.
document.querySelectorAll("[data-import-progress]").forEach((box) => {
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.importProgress,
        { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const { import: run } = await response.json();
      if (run.state !== "running") { location.reload(); return; }
      const percent = Math.round(run.progress.percent);
      bar.value = percent;
      bar.textContent = `${percent} %`;
      const left = run.progress.seconds_left == null ? "" : ` · about ${Math.ceil(run.progress.seconds_left)} s left`;
      text.textContent = `${percent} % · ${run.counts.rows.toLocaleString()} rows · `
        + `${Math.round(run.progress.rows_per_second).toLocaleString()} rows a second${left}`;
    } catch (_) { /* the next tick tries again */ }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
});

// Amounts in the reader's own locale: the page states them grouped in major units with the
// currency's code for readers without this file.
document.querySelectorAll("data.money[data-currency]").forEach((amount) => {
  try {
    const format = new Intl.NumberFormat(undefined, { style: "currency", currency: amount.dataset.currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    amount.textContent = format.format(Number(amount.value) / 10 ** digits);
  } catch (_) { /* a currency the browser does not know keeps its text */ }
});

// Tables: the header's checkbox checks or clears every row of the page (without this file
// it stays hidden, and each row's checkbox works alone).
document.querySelectorAll("[data-pick-all]").forEach((all) => {
  const rows = () => [...document.querySelectorAll("input[name=ids][form=bulk]")];
  all.hidden = false;
  all.addEventListener("change", () => rows().forEach((box) => { box.checked = all.checked; }));
  rows().forEach((box) => box.addEventListener("change", () => {
    const checked = rows().filter((b) => b.checked).length;
    all.checked = checked === rows().length;
    all.indeterminate = checked > 0 && checked < rows().length;
  }));
});
