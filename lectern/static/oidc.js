// The admins' sign-in page: add, change, test and remove identity providers.
"use strict";

/**
 * The provider fields of a form, as the API takes them; an empty secret is left out (kept).
 * @param {HTMLFormElement} form
 * @returns {Record<string, string | boolean>}
 */
function providerBody(form) {
  const data = new FormData(form);
  /** @type {Record<string, string | boolean>} */
  const body = {};
  for (const name of ["name", "issuer", "client_id", "client_secret", "email_domain"]) {
    const value = String(data.get(name) ?? "").trim();
    if (value || name !== "client_secret") body[name] = value;
  }
  body.enabled = data.get("enabled") !== null;
  return body;
}

const PROVIDERS = "/api/v1/admin/oidc/providers";

document.addEventListener("DOMContentLoaded", () => {
  const add = document.getElementById("oidc-add");
  if (add instanceof HTMLFormElement) {
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await Lectern.api("POST", PROVIDERS, providerBody(add));
        location.reload();
      } catch (error) {
        Lectern.report(error);
      }
    });
  }

  for (const form of document.querySelectorAll("form.oidc-edit")) {
    if (!(form instanceof HTMLFormElement)) continue;
    const id = form.dataset.provider;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await Lectern.api("PATCH", `${PROVIDERS}/${id}`, providerBody(form));
        location.reload();
      } catch (error) {
        Lectern.report(error);
      }
    });
  }

  for (const button of document.querySelectorAll("button.oidc-test")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    const id = button.dataset.provider;
    button.addEventListener("click", async () => {
      const result = document.getElementById(`provider-${id}-test`);
      if (!result) return;
      result.textContent = "Testing…";
      try {
        const answer = await Lectern.api("POST", `${PROVIDERS}/${id}/test`);
        result.textContent = `${answer.ok ? "Connected" : "Not connected"}: ${answer.detail}`;
      } catch (error) {
        result.textContent = error.message;
      }
    });
  }

  for (const button of document.querySelectorAll("button.oidc-remove")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    const id = button.dataset.provider;
    button.addEventListener("click", async () => {
      const question = "Remove this identity provider? Its students keep their accounts.";
      if (!(await Lectern.confirmAction(question, "Remove provider"))) return;
      try {
        await Lectern.api("DELETE", `${PROVIDERS}/${id}`);
        location.reload();
      } catch (error) {
        Lectern.report(error);
      }
    });
  }
});
