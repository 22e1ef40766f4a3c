// The admin's consistency page: the last audit run with its time, and a button that starts a
// fresh one, whose progress shows live (audit.progressed events).
"use strict";

/**
 * @typedef {{name: string, description: string, count: number, repairable: boolean}} Finding
 * @typedef {{id: number, status: string, progress: number, ok: boolean | null,
 *   started_at: string, finished_at: string | null, findings: Finding[],
 *   scope: "institution" | "all"}} AuditRun
 */

/**
 * @param {AuditRun} run
 * @returns {(Node | string)[]}
 */
function runView(run) {
  const { h, when, progressBar } = Lectern;
  if (run.status === "running") {
    return [
      h("p", {}, `Audit started ${when(run.started_at)}, running…`),
      progressBar(run.progress * 100, "Audit progress"),
    ];
  }
  const verdict =
    run.status === "failed"
      ? "the audit failed."
      : run.ok
        ? "no violations found."
        : "violations found.";
  const rows = run.findings.map((finding) =>
    h(
      "tr",
      { "data-invariant": finding.name },
      h("td", {}, finding.description),
      h("td", {}, String(finding.count)),
    ),
  );
  return [
    h(
      "p",
      {},
      `Last audit ${when(run.finished_at || run.started_at)}` +
        (run.scope === "all" ? " (the scheduled audit of every institution)" : "") +
        `: ${verdict}`,
    ),
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "invariant"),
          h("th", { scope: "col" }, "violations"),
        ),
      ),
      h("tbody", {}, ...rows),
    ),
  ];
}

document.addEventListener("DOMContentLoaded", () => {
  const { api, ApiError, h, replace, refresher, onEvent } = Lectern;
  const render = refresher(async () => {
    try {
      const run = /** @type {AuditRun} */ (
        await api("GET", "/api/v1/admin/consistency/runs/latest")
      );
      replace("audit-run", ...runView(run));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        replace("audit-run", h("p", {}, "No audit has run for this institution yet."));
      } else {
        replace("audit-run", h("p", { role: "alert" }, String(error)));
      }
    }
  });
  document.getElementById("start-audit")?.addEventListener("click", async () => {
    await api("POST", "/api/v1/admin/consistency/runs");
    render();
  });
  onEvent(["audit.progressed"], () => render());
  render();
});
