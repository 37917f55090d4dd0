// The tenant app's small enhancements. Every page works without this file.
"use strict";

// "/" or Ctrl+K moves to the page's search field, where there is one.
document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement
    || event.target instanceof HTMLSelectElement;
  const search = document.querySelector("input[type=search]");
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
