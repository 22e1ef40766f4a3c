// The roster page: preview a CSV file row by row (a dry run), then apply it.
"use strict";

/**
 * @typedef {{line: number, email: string, course: string, course_id: number | null,
 *   action: string | null, ends_at: string | null, outcome: string, reason: string}} RosterRow
 * @typedef {{filename: string, dry_run: boolean, ok: boolean,
 *   outcomes: Record<string, number>, rows: RosterRow[]}} RosterReport
 */

// Rows shown in the preview; the counts above it cover the whole file.
const SHOWN_ROWS = 500;

/**
 * Sends the chosen file to the import endpoint.
 * @param {File} file
 * @param {boolean} dryRun
 * @returns {Promise<RosterReport>}
 */
async function sendRoster(file, dryRun) {
  const body = new FormData();
  body.append("file", file);
  const response = await fetch(`/api/v1/admin/enrollments/import?dry_run=${dryRun}`, {
    method: "POST",
    headers: { Accept: "application/json", "X-CSRF-Token": Lectern.cookie("lectern_csrf") },
    credentials: "same-origin",
    body,
  });
  const data = await response.json();
  if (!response.ok) {
    // A file refused for its rows answers them, to be shown as the preview shows them.
    if (Array.isArray(data.rows)) {
      return { filename: file.name, dry_run: dryRun, ok: false, outcomes: {}, rows: data.rows };
    }
    throw new Lectern.ApiError(response.status, data);
  }
  return data;
}

/**
 * @param {RosterReport} report
 * @param {string} summary
 */
function reportView(report, summary) {
  const { h } = Lectern;
  const counts = Object.entries(report.outcomes)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${outcome}: ${n}`)
    .join(", ");
  const rows = report.rows
    .slice(0, SHOWN_ROWS)
    .map((row) =>
      h(
        "tr",
        { "data-outcome": row.outcome, class: row.outcome === "error" ? "error" : "" },
        h("td", {}, String(row.line)),
        h("td", {}, row.email),
        h("td", {}, row.course),
        h("td", {}, row.action || ""),
        h("td", {}, row.outcome),
        h("td", {}, row.reason),
      ),
    );
  return h(
    "section",
    { id: "roster-result" },
    h("p", { role: report.ok ? "status" : "alert" }, summary),
    counts ? h("p", {}, counts) : "",
    report.rows.length > SHOWN_ROWS
      ? h("p", {}, `The first ${SHOWN_ROWS} of ${report.rows.length} rows:`)
      : "",
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "What each row does"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Line", "E-mail", "Course", "Action", "Outcome", "Why"].map((name) =>
              h("th", { scope: "col" }, name),
            ),
          ),
        ),
        h("tbody", {}, ...rows),
      ),
    ),
  );
}

document.addEventListener("DOMContentLoaded", () => {
  const { replace, h } = Lectern;
  const form = /** @type {HTMLFormElement} */ (document.getElementById("roster-form"));
  const input = /** @type {HTMLInputElement} */ (document.getElementById("roster-file"));
  const apply = /** @type {HTMLButtonElement} */ (document.getElementById("roster-apply"));

  /** @param {boolean} dryRun */
  async function run(dryRun) {
    const file = input.files?.[0];
    if (!file) return;
    apply.disabled = true;
    replace("roster-report", h("p", {}, dryRun ? "Checking the file…" : "Applying the file…"));
    try {
      const report = await sendRoster(file, dryRun);
      let summary = "Applied: every row was taken in.";
      if (!report.ok) summary = "Some rows are in error; nothing would be applied. Fix them first.";
      else if (dryRun)
        summary = "Preview: nothing has been written yet. Apply to take the file in.";
      replace("roster-report", reportView(report, summary));
      apply.disabled = !(dryRun && report.ok);
    } catch (error) {
      replace("roster-report", h("p", { role: "alert" }, error.message));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(true);
  });
  input.addEventListener("change", () => {
    apply.disabled = true;
  });
  apply.addEventListener("click", () => run(false));
});
