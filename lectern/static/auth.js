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

  // Institutions' identity providers (one institution's with ?institution=slug).
  const providers = document.getElementById("oidc-providers");
  if (providers) {
    const institution = new URLSearchParams(location.search).get("institution");
    const query = institution ? `?institution=${encodeURIComponent(institution)}` : "";
    Lectern.api("GET", `/api/v1/oidc/providers${query}`).then(
      /** @param {{name: string, institution: string, start_url: string}[]} offered */
      (offered) => {
        const after = next ? `?next=${encodeURIComponent(home)}` : "";
        const links = offered.map((provider) =>
          Lectern.h(
            "li",
            null,
            Lectern.h(
              "a",
              { class: "button secondary", href: `${provider.start_url}${after}` },
              `Sign in with ${provider.name}`,
            ),
            institution ? null : ` (${provider.institution})`,
          ),
        );
        providers.replaceChildren(...links);
        providers.parentElement?.toggleAttribute("hidden", links.length === 0);
      },
      () => {},
    );
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
