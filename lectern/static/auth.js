// Log-in and sign-up forms: post JSON, then go to the caller's home.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const next = new URLSearchParams(location.search).get("next");
  // Only a path on this site: "//host" and "/\host" would leave it.
  const home = next && /^\/(?![/\\])/.test(next) ? next : "/";

  /**
   * @param {FormDataEntryValue | null} email
   * @param {FormDataEntryValue | null} password
   */
  async function login(email, password) {
    await Lectern.api("POST", "/api/v1/auth/login", { email, password });
    location.assign(home);
  }

  const loginForm = document.getElementById("login-form");
  if (loginForm) {
    loginForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(/** @type {HTMLFormElement} */ (loginForm));
      try {
        await login(form.get("email"), form.get("password"));
      } catch (error) {
        /** @type {HTMLElement} */ (document.getElementById("login-error")).textContent =
          error.message;
      }
    });
  }

  const signupForm = document.getElementById("signup-form");
  if (signupForm) {
    signupForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = Object.fromEntries(new FormData(/** @type {HTMLFormElement} */ (signupForm)));
      try {
        await Lectern.api("POST", "/api/v1/auth/register", form);
        await login(form.email, form.password);
      } catch (error) {
        const summary = /** @type {HTMLElement} */ (document.getElementById("signup-error"));
        const placed = Lectern.fieldErrors(/** @type {HTMLFormElement} */ (signupForm), error);
        summary.textContent = placed ? "" : error.message;
      }
    });
  }
});
