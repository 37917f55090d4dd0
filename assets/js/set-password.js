// Accepting an invitation or resetting a password: posts the new password with the link's
// one-time token (kept in the fragment, which browsers never send on their own) to the
// tenant's API. The page's own path says which tenant and which kind of link.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("set-password");
  const message = document.getElementById("message");
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  const [, prefix, slug, page] = location.pathname.split("/");

  if (!token) {
    message.textContent = "This address lacks its token: open the full link you were sent.";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = document.getElementById("password").value;
    if (password !== document.getElementById("confirm").value) {
      message.className = "message error";
      message.textContent = "The two passwords differ.";
      return;
    }
    message.className = "message";
    message.textContent = "Saving…";
    try {
      const response = await fetch(`/${prefix}/${slug}/api/v1/auth/${page}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token, password }),
      });
      const result = await response.json();
      if (!response.ok) {
        message.className = "message error";
        message.textContent = result.error ? result.error.message : "That did not work.";
        return;
      }
      form.replaceChildren();
      message.className = "message ok";
      message.textContent = `Your password is set, ${result.user.email}. You can now sign in.`;
      form.append(message);
    } catch (err) {
      message.className = "message error";
      message.textContent = "Holdfast did not answer. Try again in a moment.";
    }
  });
});
