// What the admins' pages of outbound destinations (webhooks.js, xapi.js) share: the forms and
// buttons of admin/outbound_destination.html, each calling its destination's API.
"use strict";

(() => {
  /**
   * Run `action` on each button of `selector` with its destination id.
   * @param {string} selector
   * @param {(id: string) => Promise<void>} action
   */
  function onButtons(selector, action) {
    for (const button of document.querySelectorAll(selector)) {
      if (!(button instanceof HTMLButtonElement)) continue;
      const id = button.dataset.destination ?? "";
      button.addEventListener("click", () => action(id));
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
          if (!Lectern.fieldErrors(form, error)) Lectern.report(error);
        }
      });
    }
  }

  /**
   * Call the API, then show the page again; or tell what went wrong.
   * @param {string} method
   * @param {string} path
   */
  async function callAndReload(method, path) {
    try {
      await Lectern.api(method, path);
      location.reload();
    } catch (error) {
      Lectern.report(error);
    }
  }

  /**
   * The forms and buttons every destination has: add, save, replay, test, resume, remove.
   * @param {DestinationsPage} page
   */
  function wire(page) {
    const { kind, base } = page;
    onForms(`#${kind}-add`, (_id, form) => Lectern.api("POST", base, page.body(form)));
    onForms(`form.${kind}-edit`, (id, form) =>
      Lectern.api("PATCH", `${base}/${id}`, page.body(form)),
    );
    onForms(`form.${kind}-replay`, (id, form) => {
      const from = Number(new FormData(form).get("from_event_id"));
      return Lectern.api("POST", `${base}/${id}/replay`, { from_event_id: from });
    });
    onButtons(`button.${kind}-test`, async (id) => {
      const result = document.getElementById(`${kind}-${id}-test`);
      if (!result) return;
      result.textContent = "Testing…";
      try {
        result.textContent = page.connection(await Lectern.api("POST", `${base}/${id}/test`));
      } catch (error) {
        result.textContent = error.message;
      }
    });
    onButtons(`button.${kind}-resume`, (id) => callAndReload("POST", `${base}/${id}/resume`));
    onButtons(`button.${kind}-remove`, async (id) => {
      if (await Lectern.confirmAction(page.removal.question, page.removal.action))
        await callAndReload("DELETE", `${base}/${id}`);
    });
  }

  window.LecternDestinations = { onButtons, callAndReload, wire };
})();
