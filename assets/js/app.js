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
