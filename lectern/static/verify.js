// Public certificate verification: asks the API whether the code is genuine.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { h, replace, when } = Lectern;
  const code = /** @type {string} */ (document.body.dataset.code);
  const box = /** @type {HTMLElement} */ (document.getElementById("verification"));
  try {
    const response = await fetch(`/api/v1/certificates/${encodeURIComponent(code)}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error("No certificate has this code.");
    const c = await response.json();
    replace(
      "verification",
      h("p", { class: "badge good", "data-verified": "true" }, "Verified"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Learner"),
        h("dd", {}, c.learner_name),
        h("dt", {}, "Course"),
        h("dd", {}, c.course_title),
        h("dt", {}, "Issued"),
        h("dd", {}, when(c.issued_at)),
        h("dt", {}, "Code"),
        h("dd", {}, h("code", {}, c.code)),
      ),
    );
  } catch (error) {
    replace("verification", h("p", { class: "error", "data-verified": "false" }, error.message));
  }
  box.setAttribute("aria-busy", "false");
});
