// Account pages: password reset (asking for the link, and using it), confirming a new e-mail
// address, and the student's profile forms. Each form posts JSON; problems show at the fields.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const token = document.body.dataset.token || "";

  /**
   * Submits `id`'s form through `send`, which gets its fields; `done` runs on success.
   * @param {string} id
   * @param {(fields: Record<string, string>) => Promise<any>} send
   * @param {(answer: any) => void} done
   */
  function onSubmit(id, send, done) {
    const form = /** @type {HTMLFormElement | null} */ (document.getElementById(id));
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      /** @type {Record<string, string>} */
      const fields = {};
      for (const [name, value] of new FormData(form)) fields[name] = String(value);
      try {
        done(await send(fields));
      } catch (error) {
        Lectern.report(error);
      }
    });
  }

  /**
   * Shows the element `id` in place of the form `formId`.
   * @param {string} formId
   * @param {string} id
   */
  function swap(formId, id) {
    /** @type {HTMLElement} */ (document.getElementById(formId)).hidden = true;
    /** @type {HTMLElement} */ (document.getElementById(id)).hidden = false;
  }

  /** @param {string} text */
  function listOf(text) {
    return text
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
  }

  onSubmit(
    "reset-request-form",
    (fields) => Lectern.api("POST", "/api/v1/auth/password-reset", { email: fields.email }),
    () => swap("reset-request-form", "reset-sent"),
  );
  onSubmit(
    "reset-confirm-form",
    (fields) =>
      Lectern.api("POST", "/api/v1/auth/password-reset/confirm", {
        token,
        new_password: fields.new_password,
      }),
    () => swap("reset-confirm-form", "reset-done"),
  );
  onSubmit(
    "confirm-email-form",
    () => Lectern.api("POST", "/api/v1/auth/email-change/confirm", { token }),
    (user) => {
      /** @type {HTMLElement} */ (document.getElementById("confirm-address")).textContent =
        user.email;
      swap("confirm-email-form", "confirm-done");
    },
  );
  onSubmit(
    "profile-form",
    async (fields) => {
      await Lectern.api("PATCH", "/api/v1/me", { full_name: fields.full_name });
      return Lectern.api("PATCH", "/api/v1/me/profile", {
        bio: fields.bio,
        languages: listOf(fields.languages),
        interests: listOf(fields.interests),
      });
    },
    () => Lectern.announce("Profile saved."),
  );
  onSubmit(
    "mail-form",
    (fields) => Lectern.api("PATCH", "/api/v1/me/mail-preferences", { choices: fields }),
    () => Lectern.announce("E-mail choices saved."),
  );
  onSubmit(
    "email-form",
    (fields) => Lectern.api("POST", "/api/v1/me/email", fields),
    () => Lectern.announce("Link sent: follow it from the new address to use it."),
  );
  onSubmit(
    "password-form",
    (fields) => Lectern.api("POST", "/api/v1/me/password", fields),
    () => Lectern.announce("Password changed; your other devices were signed out."),
  );
});
