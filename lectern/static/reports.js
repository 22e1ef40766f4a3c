// The reports page: each form downloads its report with only the filters that are filled in.
"use strict";

/**
 * The report's address: the gradebook names its course in the path, the others filter by it.
 * @param {HTMLFormElement} form
 * @returns {string}
 */
function reportUrl(form) {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value.trim() !== "") query.set(name, value.trim());
  }
  let path = form.getAttribute("action") || "";
  const course = query.get("course_id");
  if (path.includes("{course_id}") && course) {
    path = path.replace("{course_id}", encodeURIComponent(course));
    query.delete("course_id");
  }
  return `${path}?${query}`;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.report) return;
  event.preventDefault();
  const submitter = /** @type {SubmitEvent} */ (event).submitter;
  if (submitter instanceof HTMLButtonElement && submitter.name) {
    form.querySelectorAll("input[type=hidden][name=format]").forEach((old) => {
      old.remove();
    });
    form.append(Lectern.h("input", { type: "hidden", name: "format", value: submitter.value }));
  }
  location.assign(reportUrl(form));
});
