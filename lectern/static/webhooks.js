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
 * What a test message's answer says, in words.
 * @param {ApiRecord} answer
 */
function webhookConnection(answer) {
  const status = answer.http_status ? `HTTP ${answer.http_status}, ` : "";
  return answer.ok
    ? `Connected: ${status}${answer.response_ms} ms`
    : `Not connected: ${status}${answer.error}`;
}

document.addEventListener("DOMContentLoaded", () => {
  LecternDestinations.wire({
    kind: "webhook",
    base: WEBHOOKS,
    body: subscriptionBody,
    connection: webhookConnection,
    removal: {
      question: "Delete this subscription? Events stop going to its endpoint.",
      action: "Delete subscription",
    },
  });
  LecternDestinations.onButtons("button.webhook-rotate", async (id) => {
    const question =
      "Make a new signing secret? The current one keeps signing beside it for 24 hours.";
    if (await Lectern.confirmAction(question, "Rotate secret"))
      await LecternDestinations.callAndReload("POST", `${WEBHOOKS}/${id}/rotate-secret`);
  });
});
