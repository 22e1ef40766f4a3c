// LTI: the admins' platform forms, and the page that posts a Deep Linking answer back at once.
"use strict";

/**
 * The platform a form describes, as the API takes it.
 * @param {HTMLFormElement} form
 * @returns {Record<string, unknown>}
 */
function platformOf(form) {
  const data = new FormData(form);
  /** @param {string} name */
  const text = (name) => String(data.get(name) || "").trim();
  return {
    name: text("name"),
    issuer: text("issuer"),
    client_id: text("client_id"),
    deployment_ids: text("deployment_ids")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line),
    jwks_url: text("jwks_url"),
    auth_login_url: text("auth_login_url"),
    auth_token_url: text("auth_token_url") || null,
  };
}

/** @param {string} message */
function say(message) {
  const status = document.getElementById("lti-status");
  if (status) status.textContent = message;
}

document.addEventListener("DOMContentLoaded", () => {
  const answer = document.querySelector("form[data-lti-autosubmit]");
  if (answer instanceof HTMLFormElement) {
    answer.submit();
    return;
  }
  for (const form of document.querySelectorAll("form.lti-platform")) {
    if (!(form instanceof HTMLFormElement)) continue;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = form.dataset.platformId;
      try {
        if (id) await Lectern.api("PATCH", `/api/v1/admin/lti/platforms/${id}`, platformOf(form));
        else await Lectern.api("POST", "/api/v1/admin/lti/platforms", platformOf(form));
        location.reload();
      } catch (error) {
        say(error.message);
      }
    });
  }
  for (const button of document.querySelectorAll("button[data-lti-test]")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    button.addEventListener("click", async () => {
      try {
        const result = await Lectern.api(
          "POST",
          `/api/v1/admin/lti/platforms/${button.dataset.ltiTest}/connection-test`,
        );
        say(result.reachable ? `Reachable: ${result.detail}` : `Not reachable: ${result.detail}`);
      } catch (error) {
        say(error.message);
      }
    });
  }
  for (const button of document.querySelectorAll("button[data-lti-delete]")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    button.addEventListener("click", async () => {
      if (!confirm("Remove this platform? Its learners keep their accounts and enrollments.")) {
        return;
      }
      try {
        await Lectern.api("DELETE", `/api/v1/admin/lti/platforms/${button.dataset.ltiDelete}`);
        location.reload();
      } catch (error) {
        say(error.message);
      }
    });
  }
});
