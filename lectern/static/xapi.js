// The admins' learning record stores page: add, change, test, replay, resume and remove.
"use strict";

/**
 * The fields of a form, as the API takes them; an empty secret is left out (kept).
 * @param {HTMLFormElement} form
 * @returns {Record<string, string | boolean>}
 */
function destinationBody(form) {
  const data = new FormData(form);
  /** @type {Record<string, string | boolean>} */
  const body = {};
  for (const name of ["name", "endpoint", "key", "secret"]) {
    const value = String(data.get(name) ?? "").trim();
    if (value || name !== "secret") body[name] = value;
  }
  body.enabled = data.get("enabled") !== null;
  return body;
}

document.addEventListener("DOMContentLoaded", () => {
  LecternDestinations.wire({
    kind: "xapi",
    base: "/api/v1/admin/xapi/destinations",
    body: destinationBody,
    connection: (answer) => `${answer.ok ? "Connected" : "Not connected"}: ${answer.detail}`,
    removal: {
      question: "Remove this learning record store? Statements stop going to it.",
      action: "Remove store",
    },
  });
});
