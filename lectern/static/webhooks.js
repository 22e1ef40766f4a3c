// The admins' webhooks page: subscribe, change, test, rotate the secret, replay, resume, delete.
"use strict";

const WEBHOOKS = "/api/v1/admin/webhooks";

/**
 * The fields of a subscription form, as the API takes them.
 * @param {HTMLFormElement} form
 * @returns {{url: string, description: string, event_types: string[]}}
 */
function subscriptionBody(form) {
  const data = new FormData(form);
  return {
    url: String(data.get("url") ?? "").trim(),
    description: String(data.get("description") ?? "").trim(),
    event_types: data.getAll("event_types").map(String),
  };
}

/**
 * Run `action` on each button of `selector` with its subscription id.
 * @param {string} selector
 * @param {(id: string) => Promise<void>} action
 */
function onWebhookButtons(selector, action) {
  for (const button of document.querySelectorAll(selector)) {
    if (!(button instanceof HTMLButtonElement)) continue;
    const id = button.dataset.subscription ?? "";
    button.addEventListener("click", () => action(id));
  }
}

/**
 * Submit each form of `selector` with `action`, then show the page again.
 * @param {string} selector
 * @param {(id: string, form: HTMLFormElement) => Promise<unknown>} action
 */
function onWebhookForms(selector, action) {
  for (const form of document.querySelectorAll(selector)) {
    if (!(form instanceof HTMLFormElement)) continue;
    const id = form.dataset.subscription ?? "";
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
 * POST to one of a subscription's actions and show the page again.
 * @param {string} id
 * @param {string} action
 */
async function postAndReload(id, action) {
  try {
    await Lectern.api("POST", `${WEBHOOKS}/${id}/${action}`);
    location.reload();
  } catch (error) {
    Lectern.report(error);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  onWebhookForms("#webhook-add", (_id, form) =>
    Lectern.api("POST", WEBHOOKS, subscriptionBody(form)),
  );
  onWebhookForms("form.webhook-edit", (id, form) =>
    Lectern.api("PATCH", `${WEBHOOKS}/${id}`, subscriptionBody(form)),
  );
  onWebhookForms("form.webhook-replay", (id, form) => {
    const from = Number(new FormData(form).get("from_event_id"));
    return Lectern.api("POST", `${WEBHOOKS}/${id}/replay`, { from_event_id: from });
  });

  onWebhookButtons("button.webhook-test", async (id) => {
    const result = document.getElementById(`webhook-${id}-test`);
    if (!result) return;
    result.textContent = "Testing…";
    try {
      const answer = await Lectern.api("POST", `${WEBHOOKS}/${id}/test`);
      const status = answer.http_status ? `HTTP ${answer.http_status}, ` : "";
      result.textContent = answer.ok
        ? `Connected: ${status}${answer.response_ms} ms`
        : `Not connected: ${status}${answer.error}`;
    } catch (error) {
      result.textContent = error.message;
    }
  });
  onWebhookButtons("button.webhook-resume", (id) => postAndReload(id, "resume"));
  onWebhookButtons("button.webhook-rotate", async (id) => {
    const question =
      "Make a new signing secret? The current one keeps signing beside it for 24 hours.";
    if (await Lectern.confirmAction(question, "Rotate secret"))
      await postAndReload(id, "rotate-secret");
  });
  onWebhookButtons("button.webhook-remove", async (id) => {
    const question = "Delete this subscription? Events stop going to its endpoint.";
    if (!(await Lectern.confirmAction(question, "Delete subscription"))) return;
    try {
      await Lectern.api("DELETE", `${WEBHOOKS}/${id}`);
      location.reload();
    } catch (error) {
      Lectern.report(error);
    }
  });
});
