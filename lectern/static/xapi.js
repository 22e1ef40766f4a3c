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

const DESTINATIONS = "/api/v1/admin/xapi/destinations";

/**
 * Run `action` on each button of `selector` with its destination id.
 * @param {string} selector
 * @param {(id: string, button: HTMLButtonElement) => Promise<void>} action
 */
function onButtons(selector, action) {
  for (const button of document.querySelectorAll(selector)) {
    if (!(button instanceof HTMLButtonElement)) continue;
    const id = button.dataset.destination ?? "";
    button.addEventListener("click", () => action(id, button));
  }
}

/**
 * Submit each form of `selector` with `action`, then show the page again.
 * @param {string} selector
 * @param {(id: string, form: HTMLFormElement) => Promise<unknown>} action
 */
function onForms(selector, action) {
  for (const form of document.querySelectorAll(selector)) {
    if (!(form instanceof HTMLFormElement)) continue;
    const id = form.dataset.destination ?? "";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await action(id, form);
        location.reload();
      } catch (error) {
        Lectern.report(error);
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  onForms("#xapi-add", (_id, form) => Lectern.api("POST", DESTINATIONS, destinationBody(form)));
  onForms("form.xapi-edit", (id, form) =>
    Lectern.api("PATCH", `${DESTINATIONS}/${id}`, destinationBody(form)),
  );
  onForms("form.xapi-replay", (id, form) => {
    const from = Number(new FormData(form).get("from_event_id"));
    return Lectern.api("POST", `${DESTINATIONS}/${id}/replay`, { from_event_id: from });
  });

  onButtons("button.xapi-test", async (id) => {
    const result = document.getElementById(`destination-${id}-test`);
    if (!result) return;
    result.textContent = "Testing…";
    try {
      const answer = await Lectern.api("POST", `${DESTINATIONS}/${id}/test`);
      result.textContent = `${answer.ok ? "Connected" : "Not connected"}: ${answer.detail}`;
    } catch (error) {
      result.textContent = error.message;
    }
  });

  onButtons("button.xapi-resume", async (id) => {
    try {
      await Lectern.api("POST", `${DESTINATIONS}/${id}/resume`);
      location.reload();
    } catch (error) {
      Lectern.report(error);
    }
  });

  onButtons("button.xapi-remove", async (id) => {
    const question = "Remove this learning record store? Statements stop going to it.";
    if (!(await Lectern.confirmAction(question, "Remove store"))) return;
    try {
      await Lectern.api("DELETE", `${DESTINATIONS}/${id}`);
      location.reload();
    } catch (error) {
      Lectern.report(error);
    }
  });
});
