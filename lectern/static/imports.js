// The admin's import page: each legacy import's part for this institution, with its decisions.
"use strict";

/**
 * @typedef {{id: number, source: string, created_at: string,
 *   decisions: Record<string, number>, created: Record<string, number>, notes: string[]}} ImportPart
 */

/**
 * @param {string} caption
 * @param {Record<string, number>} counts
 */
function countsTable(caption, counts) {
  const { h } = Lectern;
  const rows = Object.entries(counts).map(([name, n]) =>
    h("tr", {}, h("td", {}, name.replaceAll("_", " ")), h("td", {}, String(n))),
  );
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col" }, "what"), h("th", { scope: "col" }, "rows")),
    ),
    h("tbody", {}, ...rows),
  );
}

document.addEventListener("DOMContentLoaded", async () => {
  const { api, h, replace, when } = Lectern;
  try {
    const parts = /** @type {ImportPart[]} */ (await api("GET", "/api/v1/admin/imports"));
    if (parts.length === 0) {
      replace("imports", h("p", {}, "No import has taken rows into this institution."));
      return;
    }
    replace(
      "imports",
      ...parts.map((part) =>
        h(
          "section",
          { "data-import": String(part.id) },
          h("h2", {}, `Import ${part.id}, ${when(part.created_at)}`),
          h("p", {}, `From ${part.source}`),
          countsTable("Rows created", part.created),
          countsTable("Decisions", part.decisions),
          h("ul", {}, ...part.notes.map((note) => h("li", {}, note))),
        ),
      ),
    );
  } catch (error) {
    replace("imports", h("p", { role: "alert" }, error.message));
  }
});
