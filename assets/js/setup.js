// The setup page: the one-time token travels in the address's fragment (#token=…), which the
// browser never sends: copy it into the form's token field and hide that field. Without this
// file the field asks for the token, and the form works the same.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("setup");
  if (!form) return;
  const field = form.querySelector("#token");
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token && !field.value) field.value = token;
  if (field.value && !field.hasAttribute("aria-invalid")) form.querySelector(".token-field").hidden = true;
});
