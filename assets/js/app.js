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

// The reader's time zone, which the server cuts days by (my tasks, the calendar): kept in a
// cookie for a year. A page cut by another zone (it names it in data-zone) is loaded again
// once, when the cookie has just been set; without this file the tenant's zone is used.
(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || !/^[A-Za-z0-9/_+-]{1,64}$/.test(zone)) return;
  const kept = () => document.cookie.split("; ").includes(`holdfast_tz=${zone}`);
  if (kept()) return;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `holdfast_tz=${zone}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
  const page = document.querySelector("[data-zone]");
  if (page && page.dataset.zone !== zone && kept()) location.reload();
})();

// Dates and times in the reader's own locale and time zone; the page states them in its
// zone (or ISO 8601) for readers without this file.
document.querySelectorAll("time[datetime]").forEach((time) => {
  const when = new Date(time.getAttribute("datetime"));
  if (Number.isNaN(when.getTime())) return;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(time.getAttribute("datetime"));
  if (time.dataset.show === "time") time.textContent = when.toLocaleTimeString(undefined, { timeStyle: "short" });
  else time.textContent = dateOnly
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

// Record pages: a record's details edited in place. Each field's Edit button turns its value
// into the edit form's own control; Enter or Save sends the change to the API (PATCH with
// the ETag the page was made at and the session's CSRF token), Escape cancels. A record
// someone else changed meanwhile (412) is never overwritten: the page says so and offers to
// reload. Without this file the edit form does all of this.
document.querySelectorAll("[data-inline-edit]").forEach((panel) => {
  const form = document.getElementById("record-form");
  if (!form) return;
  const status = panel.querySelector(".inline-status");
  const csrf = form.querySelector("input[name=csrf]").value;
  const noun = panel.dataset.noun;
  let version = panel.dataset.version;
  const say = (text, kind) => {
    status.className = `inline-status message ${kind || ""}`;
    status.replaceChildren(text);
  };
  const changedMeanwhile = () => {
    say(`Someone else changed this ${noun} after the page was opened, so your change was not saved. `, "error");
    const reload = document.createElement("button");
    reload.type = "button";
    reload.textContent = `Reload the ${noun}`;
    reload.addEventListener("click", () => location.reload());
    status.append(reload);
  };
  panel.hidden = false;
  form.hidden = true;
  panel.querySelector("[data-edit-all]").addEventListener("click", () => {
    panel.hidden = true;
    form.hidden = false;
    const first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });
  panel.querySelectorAll("[data-field]").forEach((row) => {
    const button = row.querySelector(".edit-field");
    if (!button) return;
    const name = row.dataset.field;
    const label = row.querySelector("dt").textContent.trim();
    const shown = row.querySelector(".value");
    const source = form.querySelector(`[name="${name}"]`);
    button.addEventListener("click", () => {
      const control = source.cloneNode(true);
      control.id = `inline-${name}`;
      control.removeAttribute("aria-describedby");
      control.removeAttribute("aria-invalid");
      control.setAttribute("aria-labelledby", `dt-${name}`);
      control.value = shown.textContent;
      const save = document.createElement("button");
      save.type = "button";
      save.textContent = "Save";
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "secondary";
      cancel.textContent = "Cancel";
      const editor = document.createElement("span");
      editor.className = "inline-editor";
      editor.append(control, save, cancel);
      shown.hidden = true;
      button.hidden = true;
      row.querySelector("dd").append(editor);
      control.focus();
      const close = () => {
        editor.remove();
        shown.hidden = false;
        button.hidden = false;
        button.focus();
      };
      const send = async () => {
        const text = control.value.trim();
        let value = text === "" ? null : text;
        if (row.dataset.inline === "list") value = text.split(",").map((v) => v.trim()).filter(Boolean);
        save.disabled = true;
        say(`Saving ${label}…`);
        try {
          const response = await fetch(panel.dataset.api, {
            method: "PATCH",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", Accept: "application/json",
              "If-Match": `"${version}"`, "X-CSRF-Token": csrf },
            body: JSON.stringify({ [name]: value }),
          });
          if (response.status === 412) { close(); changedMeanwhile(); return; }
          const result = await response.json().catch(() => ({}));
          if (!response.ok) {
            save.disabled = false;
            say(result.error ? result.error.message : `${label} was not saved.`, "error");
            return;
          }
          const record = result[noun];
          version = String(record.version);
          document.querySelectorAll("input[name=version]").forEach((input) => { input.value = version; });
          const saved = record[name];
          shown.textContent = Array.isArray(saved) ? saved.join(", ") : (saved == null ? "" : String(saved));
          source.value = shown.textContent;
          close();
          say(`${label} saved.`, "ok");
        } catch (_) {
          save.disabled = false;
          say("Holdfast did not answer; nothing was saved.", "error");
        }
      };
      control.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && control.tagName !== "TEXTAREA") { event.preventDefault(); send(); }
        else if (event.key === "Escape") { event.preventDefault(); close(); say(""); }
      });
      save.addEventListener("click", send);
      cancel.addEventListener("click", () => { close(); say(""); });
    });
  });
});

// Record forms: the company field suggests companies from the API's search while typing;
// choosing one fills its exact name and remembers its id, so two companies of one name stay
// apart. Without this file the server finds the company by the name typed.
document.querySelectorAll("input[data-company-search]").forEach((input) => {
  const box = document.getElementById("company-options");
  const chosen = input.form.querySelector("input[name=company_ref]");
  if (!box || !chosen) return;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", box.id);
  input.setAttribute("aria-expanded", "false");
  let timer = null;
  let asked = 0;
  const close = () => { box.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); };
  const options = () => Array.from(box.querySelectorAll("[role=option]"));
  const select = (index) => {
    options().forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (options()[index]) input.setAttribute("aria-activedescendant", options()[index].id);
  };
  const pick = (option) => {
    input.value = option.dataset.name;
    chosen.value = option.dataset.id;
    close();
  };
  input.addEventListener("input", () => {
    chosen.value = "";
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { close(); return; }
    timer = setTimeout(async () => {
      const mine = ++asked;
      try {
        const response = await fetch(`${input.dataset.companySearch}?q=${encodeURIComponent(q)}&limit=5`,
          { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok || mine !== asked) return;
        const hits = (await response.json()).companies || [];
        box.replaceChildren(...hits.map((hit, i) => {
          const option = document.createElement("div");
          option.setAttribute("role", "option");
          option.id = `company-option-${i}`;
          option.className = "option";
          option.dataset.id = hit.id;
          option.dataset.name = hit.title;
          option.textContent = hit.title;
          option.addEventListener("mousedown", (event) => { event.preventDefault(); pick(option); });
          return option;
        }));
        box.hidden = hits.length === 0;
        input.setAttribute("aria-expanded", hits.length === 0 ? "false" : "true");
      } catch (_) { close(); }
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    const all = options();
    const current = all.findIndex((o) => o.getAttribute("aria-selected") === "true");
    if (event.key === "ArrowDown" && !box.hidden) { event.preventDefault(); select(Math.min(current + 1, all.length - 1)); }
    else if (event.key === "ArrowUp" && !box.hidden) { event.preventDefault(); select(Math.max(current - 1, 0)); }
    else if (event.key === "Enter" && !box.hidden && current >= 0) { event.preventDefault(); pick(all[current]); }
    else if (event.key === "Escape") { close(); }
  });
  input.addEventListener("blur", () => setTimeout(close, 200));
});
