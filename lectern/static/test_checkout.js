// The test provider's checkout: Pay and Cancel post with the session's CSRF token, as every
// cookie request must, then go where the server sends the learner.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const error = /** @type {HTMLElement} */ (document.getElementById("checkout-error"));
  const buttons = document.querySelectorAll("main form button");
  for (const form of document.querySelectorAll("main form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const button of buttons) /** @type {HTMLButtonElement} */ (button).disabled = true;
      try {
        const response = await fetch(/** @type {HTMLFormElement} */ (form).action, {
          method: "POST",
          headers: { Accept: "application/json", "X-CSRF-Token": Lectern.cookie("lectern_csrf") },
          credentials: "same-origin",
        });
        if (response.status === 401) {
          location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
          return;
        }
        if (!response.ok) {
          throw new Lectern.ApiError(response.status, await response.json().catch(() => null));
        }
        // The answer is the redirect's target, followed: the course page, paid or not.
        location.assign(response.url);
      } catch (problem) {
        error.textContent = /** @type {Error} */ (problem).message;
        for (const button of buttons) /** @type {HTMLButtonElement} */ (button).disabled = false;
      }
    });
  }
});
