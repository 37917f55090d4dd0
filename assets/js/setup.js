// The setup page: sends the form as JSON to POST /setup with the one-time token from the
// address's fragment (which the browser never sends to the server on its own).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("setup");
  const message = document.getElementById("message");
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  const value = (id) => document.getElementById(id).value.trim();

  if (!token) {
    message.textContent = "This address lacks its setup token: open the full address Holdfast printed when it started.";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      token,
      operator: { email: value("email"), password: document.getElementById("password").value },
    };
    if (value("license")) body.license = value("license");
    if (value("slug")) {
      body.tenant = { slug: value("slug"), name: value("name") || value("slug") };
      if (value("owner")) body.tenant.owner_email = value("owner");
    }
    message.className = "message";
    message.textContent = "Setting up…";
    try {
      const response = await fetch("/setup", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const result = await response.json();
      if (!response.ok) {
        message.className = "message error";
        message.textContent = result.error ? result.error.message : "Setup failed.";
        return;
      }
      form.replaceChildren();
      message.className = "message ok";
      let text = `Done: ${result.operator.email} is the first operator.`;
      if (result.owner_invite_link) {
        text += ` Send the tenant's owner this one-time link: ${result.owner_invite_link}`;
      }
      message.textContent = text;
      const next = document.createElement("p");
      const console = document.createElement("a");
      console.href = "/admin/sign-in";
      console.className = "button";
      console.textContent = "Sign in to the console";
      next.append(console);
      form.append(message, next);
    } catch (err) {
      message.className = "message error";
      message.textContent = "Holdfast did not answer. Is it still running?";
    }
  });
});
