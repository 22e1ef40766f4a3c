// The admin app: dashboard, request queue, students, courses, per-course analytics.
"use strict";

(() => {
  const {
    api,
    h,
    onEvent,
    refresher,
    progressBar,
    announce,
    report,
    when,
    money,
    replace,
    fieldErrors,
    confirmAction,
  } = Lectern;
  const ADMIN_EVENTS = [
    "request.",
    "enrollment.",
    "progress.",
    "certificate.",
    "course.",
    "payment.",
    "user.",
    "qbank.",
    "student.",
  ];
  const CHART_LAYOUT = {
    margin: { t: 10, r: 10, b: 80, l: 40 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, sans-serif", size: 12 },
    legend: { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" },
    barmode: "stack",
  };
  const CHART_CONFIG = { displayModeBar: false, responsive: true };
  const percent = (/** @type {unknown} */ value) => `${Math.round(Number(value) || 0)} %`;

  /**
   * A chart label broken into lines of about `width` characters (Plotly's <br>), words kept.
   * @param {string} text
   * @param {number} width
   */
  function lines(text, width) {
    /** @type {string[]} */
    const out = [];
    for (const word of text.split(" ")) {
      const last = out.length - 1;
      if (last >= 0 && out[last].length + word.length < width) out[last] += ` ${word}`;
      else out.push(word);
    }
    return out.join("<br>");
  }

  /**
   * @param {string} id
   * @param {object[]} traces
   * @param {object} [layout]
   */
  function chart(id, traces, layout) {
    if (window.Plotly)
      Plotly.react(id, traces, { ...CHART_LAYOUT, ...(layout || {}) }, CHART_CONFIG);
  }

  /**
   * @param {string} id
   * @param {string} text
   */
  function setFigure(id, text) {
    const node = document.getElementById(id);
    if (!node || node.textContent === text) return;
    const first = node.textContent === "–";
    node.textContent = text;
    if (!first) {
      node.classList.remove("changed");
      void node.offsetWidth; // restart the highlight animation
      node.classList.add("changed");
    }
  }

  /** @param {string} status */
  function badge(status) {
    /** @type {Record<string, string>} */
    const tones = {
      active: "good",
      completed: "good",
      published: "good",
      pending: "warn",
      draft: "warn",
      rejected: "bad",
      cancelled: "bad",
      archived: "bad",
      refunded: "warn",
      failed: "bad",
      flagged: "bad",
    };
    const tone = tones[status] || "";
    return h("span", { class: `badge ${tone}` }, status);
  }

  /**
   * @param {HTMLButtonElement | null} button
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @param {string} message
   */
  async function act(button, method, path, body, message) {
    if (button) button.disabled = true;
    try {
      const result = await api(method, path, body);
      announce(message);
      return result;
    } catch (error) {
      report(error);
      if (button) button.disabled = false;
      return null;
    }
  }

  /**
   * The control that moves an active enrollment's end: a day (access ends at its close, UTC),
   * or none for access that lasts.
   * @param {ApiRecord} e the enrollment, as the student's page lists it
   */
  function accessEnd(e) {
    const day = h("input", {
      type: "date",
      value: e.ends_at ? String(e.ends_at).slice(0, 10) : "",
      "data-field": "ends-at",
      "aria-label": `Last day of access to ${e.course_title} (empty: no end)`,
    });
    return h(
      "span",
      { class: "row" },
      day,
      h(
        "button",
        {
          type: "button",
          "data-action": "set-end",
          onclick: async (/** @type {ButtonClick} */ ev) => {
            const chosen = /** @type {HTMLInputElement} */ (day).value;
            const done = chosen
              ? `Access to ${e.course_title} ends at the close of ${chosen} (UTC).`
              : `Access to ${e.course_title} no longer ends.`;
            const body = { ends_at: chosen ? `${chosen}T23:59:59Z` : null };
            const changed = await act(
              ev.target,
              "PATCH",
              `/api/v1/admin/enrollments/${e.id}`,
              body,
              done,
            );
            if (changed) student();
          },
        },
        "Set end",
      ),
    );
  }

  // -- dashboard ------------------------------------------------------------------------------
  async function renderDashboard() {
    const a = await api("GET", "/api/v1/admin/analytics");
    /** @type {ApiRecord[]} */
    const courses = a.courses;
    setFigure("fig-students", String(a.students));
    setFigure("fig-active", String(a.active_enrollments));
    setFigure("fig-pending", String(a.pending_requests));
    setFigure("fig-completions", String(a.completions));
    setFigure("fig-progress", percent(a.average_progress));
    const titles = courses.map((c) => c.title);
    /**
     * @param {string} name
     * @param {number[]} values
     * @param {string} color
     */
    const bars = (name, values, color) => ({
      type: "bar",
      orientation: "h",
      name,
      y: labels,
      x: values,
      marker: { color },
    });
    // On a phone the course names break over lines, so that the bars keep half the width.
    const chartWidth = document.getElementById("chart-enrollments")?.clientWidth || 800;
    const narrow = chartWidth < 520;
    const labels = narrow ? titles.map((t) => lines(t, 16)) : titles;
    const tall = {
      height: Math.max(260, 60 + (narrow ? 56 : 44) * titles.length),
      margin: { t: 40, r: 10, b: 40, l: narrow ? 110 : 170 },
      yaxis: { automargin: true, autorange: "reversed" },
    };
    chart(
      "chart-enrollments",
      [
        bars(
          "Active",
          courses.map((c) => c.active_enrollments),
          "#3c62d6",
        ),
        bars(
          "Completed",
          courses.map((c) => c.completed_enrollments),
          "#2f9e6b",
        ),
        bars(
          "Pending requests",
          courses.map((c) => c.pending_requests),
          "#e0a030",
        ),
      ],
      { ...tall, xaxis: { rangemode: "tozero", dtick: 1 } },
    );
    chart(
      "chart-progress",
      [
        bars(
          "Average progress",
          courses.map((c) => Math.round(c.average_progress)),
          "#2f4fb5",
        ),
      ],
      { ...tall, showlegend: false, xaxis: { range: [0, 100], ticksuffix: " %" } },
    );
    replace(
      "course-figures",
      courses.map((c) =>
        h(
          "tr",
          { "data-course-id": c.course_id },
          h(
            "th",
            { scope: "row" },
            h("a", { href: `/admin/courses/${c.course_id}/analytics` }, c.title),
          ),
          h("td", {}, badge(c.status)),
          h("td", {}, c.access),
          h("td", {}, String(c.active_enrollments)),
          h("td", {}, String(c.completed_enrollments)),
          h("td", {}, String(c.pending_requests)),
          h("td", {}, percent(c.average_progress)),
        ),
      ),
    );
  }

  /**
   * A page of a keyset list and the address of the next one, from the Link header.
   * @param {string} url
   * @returns {Promise<{ rows: ApiRecord[], next: string | null }>}
   */
  async function listPage(url) {
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`The list answered ${response.status}.`);
    const next = /<([^>]*)>;\s*rel="next"/.exec(response.headers.get("link") || "");
    return { rows: await response.json(), next: next ? next[1] : null };
  }

  // -- request queue --------------------------------------------------------------------------
  // Newest first, a keyset page at a time; a live refresh reloads as many pages as were shown.
  const REQUESTS_PAGE = 100;
  let requestPages = 1;
  /** @type {string | null} */
  let nextRequests = null;

  async function renderRequests() {
    const status = /** @type {HTMLSelectElement} */ (document.getElementById("request-status"))
      .value;
    /** @type {ApiRecord[]} */
    const requests = [];
    /** @type {string | null} */
    let url = `/api/v1/admin/access-requests?${new URLSearchParams({ status, limit: String(REQUESTS_PAGE) })}`;
    for (let page = 0; page < requestPages && url; page += 1) {
      const { rows, next } = await listPage(url);
      requests.push(...rows);
      url = next;
    }
    nextRequests = url;
    /** @type {HTMLButtonElement} */ (document.getElementById("request-more")).hidden = !url;
    replace(
      "request-rows",
      requests.length
        ? requests.map((r) => requestRow(r))
        : h("tr", {}, h("td", { colspan: "5", class: "empty" }, `No ${status} requests.`)),
    );
  }

  async function loadMoreRequests() {
    if (!nextRequests) return;
    const { rows, next } = await listPage(nextRequests);
    requestPages += 1;
    nextRequests = next;
    /** @type {HTMLButtonElement} */ (document.getElementById("request-more")).hidden = !next;
    document.getElementById("request-rows")?.append(...rows.map((r) => requestRow(r)));
  }

  // A row is rebuilt only when its request changed, so a note being typed survives updates.
  /** @type {Map<number, { key: string, node: HTMLTableRowElement }>} */
  const requestRows = new Map();
  /** @param {ApiRecord} r */
  function requestRow(r) {
    const key = JSON.stringify(r);
    const cached = requestRows.get(r.id);
    if (cached && cached.key === key) return cached.node;
    const node = (() => {
      const noteId = `note-${r.id}`;
      const noteValue = () =>
        /** @type {HTMLInputElement} */ (document.getElementById(noteId)).value;
      const decision =
        r.status === "pending"
          ? h(
              "div",
              { class: "stack" },
              h("label", { for: noteId, class: "visually-hidden" }, `Note to ${r.learner_name}`),
              h("input", { id: noteId, placeholder: "Note (optional)", maxlength: "2000" }),
              h(
                "div",
                { class: "row" },
                h(
                  "button",
                  {
                    type: "button",
                    "data-action": "approve",
                    "aria-label": `Approve ${r.learner_name} for ${r.course_title}`,
                    onclick: (/** @type {ButtonClick} */ e) =>
                      act(
                        e.target,
                        "POST",
                        `/api/v1/admin/access-requests/${r.id}/approve`,
                        { note: noteValue() },
                        `Approved ${r.learner_name}.`,
                      ).then(queue),
                  },
                  "Approve",
                ),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "data-action": "reject",
                    "aria-label": `Reject ${r.learner_name} for ${r.course_title}`,
                    onclick: async (/** @type {ButtonClick} */ e) => {
                      const button = e.target;
                      const question = `Reject ${r.learner_name}'s request for ${r.course_title}?`;
                      if (!(await confirmAction(question, "Reject request"))) return;
                      await act(
                        button,
                        "POST",
                        `/api/v1/admin/access-requests/${r.id}/reject`,
                        { note: noteValue() },
                        `Rejected ${r.learner_name}.`,
                      );
                      queue();
                    },
                  },
                  "Reject",
                ),
              ),
            )
          : h("span", {}, r.note || "");
      return h(
        "tr",
        { "data-request-id": r.id },
        h(
          "th",
          { scope: "row" },
          h("a", { href: `/admin/students/${r.user_id}` }, r.learner_name),
          h("div", { class: "meta" }, r.learner_email),
        ),
        h("td", {}, r.course_title),
        h("td", {}, when(r.created_at)),
        h("td", {}, badge(r.status)),
        h("td", {}, decision),
      );
    })();
    requestRows.set(r.id, { key, node });
    return node;
  }

  /**
   * @param {string} id
   * @param {ApiRecord[]} payments
   * @param {(payment: ApiRecord) => string} first what the row's first cell shows
   */
  function paymentRows(id, payments, first) {
    replace(
      id,
      payments.length
        ? payments.map((p) =>
            h(
              "tr",
              { "data-payment-id": p.id, "data-status": p.status },
              h("th", { scope: "row" }, first(p)),
              h("td", {}, money(p.amount_cents, p.currency)),
              h(
                "td",
                {},
                badge(p.status),
                p.flag_reason ? h("div", { class: "meta" }, p.flag_reason) : null,
              ),
              h("td", {}, when(p.created_at)),
              h("td", {}, when(p.completed_at)),
            ),
          )
        : h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No payments.")),
    );
  }

  // -- students -------------------------------------------------------------------------------
  // The list comes a keyset page at a time; a live refresh reloads as many pages as were shown.
  const STUDENTS_PAGE = 100;
  let studentPages = 1;
  /** @type {string | null} */
  let nextStudents = null;

  function firstStudentsUrl() {
    const q = /** @type {HTMLInputElement} */ (document.getElementById("student-search")).value;
    const sort = /** @type {HTMLSelectElement} */ (document.getElementById("student-sort")).value;
    const query = new URLSearchParams({ limit: String(STUDENTS_PAGE), sort });
    if (q.trim()) query.set("q", q.trim());
    return `/api/v1/admin/students?${query}`;
  }

  /** @param {ApiRecord} s */
  function studentRow(s) {
    return h(
      "tr",
      { "data-user-id": s.id },
      h("th", { scope: "row" }, h("a", { href: `/admin/students/${s.id}` }, s.full_name)),
      h("td", {}, s.email),
      h("td", {}, String(s.active_enrollments)),
      h("td", {}, String(s.completed_enrollments)),
      h("td", {}, String(s.pending_requests)),
      h("td", {}, percent(s.average_progress)),
    );
  }

  async function renderStudents() {
    /** @type {ApiRecord[]} */
    const students = [];
    /** @type {string | null} */
    let url = firstStudentsUrl();
    for (let page = 0; page < studentPages && url; page += 1) {
      const { rows, next } = await listPage(url);
      students.push(...rows);
      url = next;
    }
    nextStudents = url;
    /** @type {HTMLButtonElement} */ (document.getElementById("student-more")).hidden = !url;
    replace(
      "student-rows",
      students.length
        ? students.map(studentRow)
        : h("tr", {}, h("td", { colspan: "6", class: "empty" }, "No students found.")),
    );
  }

  async function loadMoreStudents() {
    if (!nextStudents) return;
    const { rows, next } = await listPage(nextStudents);
    studentPages += 1;
    nextStudents = next;
    /** @type {HTMLButtonElement} */ (document.getElementById("student-more")).hidden = !next;
    document.getElementById("student-rows")?.append(...rows.map(studentRow));
  }

  /** @param {() => Promise<void>} render */
  function setUpStudentSearch(render) {
    /** @type {number | undefined} */
    let typing;
    const restart = () => {
      studentPages = 1;
      render();
    };
    document.getElementById("student-search")?.addEventListener("input", () => {
      clearTimeout(typing);
      typing = window.setTimeout(restart, 250);
    });
    document.getElementById("student-sort")?.addEventListener("change", restart);
    document.getElementById("student-filter")?.addEventListener("submit", (event) => {
      event.preventDefault();
      restart();
    });
    document
      .getElementById("student-more")
      ?.addEventListener("click", () => loadMoreStudents().catch(report));
  }

  async function renderStudent() {
    const userId = Number(document.body.dataset.userId);
    /** @type {[ApiRecord, ApiRecord[], ApiRecord[]]} */
    const [s, courses, payments] = await Promise.all([
      api("GET", `/api/v1/admin/students/${userId}`),
      api("GET", "/api/v1/courses"),
      api("GET", `/api/v1/admin/payments?user_id=${userId}`),
    ]);
    paymentRows("payment-rows", payments, (p) => p.course_title);
    /** @type {HTMLElement} */ (document.getElementById("student-name")).textContent = s.full_name;
    /** @type {HTMLElement} */ (document.getElementById("student-email")).textContent =
      `${s.email} · joined ${when(s.created_at)}`;
    const enrolled = new Set(
      /** @type {ApiRecord[]} */ (s.enrollments)
        .filter((e) => e.status !== "cancelled")
        .map((e) => e.course_id),
    );
    const select = /** @type {HTMLSelectElement} */ (document.getElementById("enroll-course"));
    const keep = select.value;
    select.replaceChildren(
      ...courses
        .filter((c) => !enrolled.has(c.id))
        .map((c) => h("option", { value: String(c.id) }, `${c.title} (${c.status})`)),
    );
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
    replace(
      "enrollment-rows",
      s.enrollments.length
        ? s.enrollments.map((/** @type {ApiRecord} */ e) =>
            h(
              "tr",
              { "data-course-id": e.course_id, "data-status": e.status },
              h("th", { scope: "row" }, e.course_title),
              h("td", {}, badge(e.status)),
              h("td", {}, e.source),
              h(
                "td",
                { style: "min-width:160px" },
                progressBar(e.progress, `Progress in ${e.course_title}`),
              ),
              h(
                "td",
                {},
                e.status === "active" ? accessEnd(e) : "",
                e.status === "cancelled"
                  ? ""
                  : e.source === "payment"
                    ? h("span", { class: "meta" }, "Paid: ended by a refund")
                    : h(
                        "button",
                        {
                          type: "button",
                          class: "danger",
                          "data-action": "unenroll",
                          "aria-label": `Unenroll from ${e.course_title}`,
                          onclick: async (/** @type {ButtonClick} */ ev) => {
                            const button = ev.target;
                            const question = `Unenroll from ${e.course_title}? The learner's progress is kept.`;
                            if (!(await confirmAction(question, "Unenroll"))) return;
                            await act(
                              button,
                              "DELETE",
                              `/api/v1/admin/enrollments/${e.id}`,
                              undefined,
                              `Unenrolled from ${e.course_title}.`,
                            );
                            student();
                          },
                        },
                        "Unenroll",
                      ),
              ),
            ),
          )
        : h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No enrollments.")),
    );
    replace(
      "student-requests",
      s.access_requests.length
        ? s.access_requests.map((/** @type {ApiRecord} */ r) =>
            h(
              "li",
              {},
              r.course_title,
              " ",
              badge(r.status),
              r.note ? ` — ${r.note}` : "",
              h("span", { class: "meta" }, ` ${when(r.created_at)}`),
            ),
          )
        : h("li", { class: "empty" }, "No requests."),
    );
  }

  // -- courses --------------------------------------------------------------------------------
  async function renderCourses() {
    // An instructor's figures are those of the courses they are staff of: their own learners.
    /** @type {[ApiRecord[], ApiRecord]} */
    const [courses, figures] = await Promise.all([
      api("GET", "/api/v1/courses"),
      api("GET", "/api/v1/admin/analytics"),
    ]);
    const byId = Object.fromEntries(
      figures.courses.map((/** @type {ApiRecord} */ c) => [c.course_id, c]),
    );
    replace(
      "course-rows",
      courses.map((c) => {
        const f = byId[c.id] || { active_enrollments: 0, completed_enrollments: 0 };
        return h(
          "tr",
          { "data-course-id": c.id },
          h("th", { scope: "row" }, h("a", { href: `/admin/courses/${c.id}` }, c.title)),
          h("td", {}, badge(c.status)),
          h("td", {}, c.access),
          h("td", {}, c.access === "paid" ? money(c.price_cents, c.currency) : "—"),
          h("td", {}, String(f.active_enrollments + f.completed_enrollments)),
          h(
            "td",
            { class: "row" },
            h("a", { href: `/admin/courses/${c.id}` }, "Edit"),
            h("a", { href: `/admin/courses/${c.id}/analytics` }, "Analytics"),
          ),
        );
      }),
    );
  }

  function setUpNewCourse() {
    const form = /** @type {HTMLFormElement} */ (document.getElementById("new-course"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      try {
        const course = await api("POST", "/api/v1/courses", {
          title: data.get("title"),
          access: data.get("access"),
          status: "draft",
          price_cents: Number(data.get("price_cents") || 0),
        });
        location.assign(`/admin/courses/${course.id}`);
      } catch (error) {
        /** @type {HTMLElement} */ (document.getElementById("new-course-error")).textContent =
          fieldErrors(form, error) ? "" : error.message;
      }
    });
  }

  // -- per-course analytics -------------------------------------------------------------------
  // At least a week around the completions, so that a single day does not fill the axis.
  /** @param {string[]} days ISO dates, oldest first */
  function dayRange(days) {
    const DAY = 86400000;
    const first = Date.parse(days[0]);
    const last = Date.parse(days[days.length - 1]);
    const start = Math.min(first, last - 6 * DAY) - DAY / 2;
    return [new Date(start).toISOString().slice(0, 10), new Date(last + DAY / 2).toISOString()];
  }

  async function renderAnalytics() {
    const courseId = Number(document.body.dataset.courseId);
    // Payments are the admins' to see; the course's staff see its learners only.
    const isAdmin = document.body.dataset.role === "admin";
    /** @type {[ApiRecord, ApiRecord[]]} */
    const [a, payments] = await Promise.all([
      api("GET", `/api/v1/admin/courses/${courseId}/analytics`),
      isAdmin ? api("GET", `/api/v1/admin/payments?course_id=${courseId}`) : [],
    ]);
    if (isAdmin) {
      paymentRows(
        "course-payment-rows",
        payments,
        (p) => p.learner_name || p.learner_email || "(deleted)",
      );
    }
    /** @type {HTMLElement} */ (document.getElementById("analytics-title")).textContent =
      `Analytics: ${a.title}`;
    setFigure("ca-active", String(a.active_enrollments));
    setFigure("ca-completed", String(a.completed_enrollments));
    setFigure("ca-progress", percent(a.average_progress));
    chart(
      "chart-distribution",
      [
        {
          type: "bar",
          name: "Learners",
          x: a.progress_distribution.map((/** @type {ApiRecord} */ b) => b.label),
          y: a.progress_distribution.map((/** @type {ApiRecord} */ b) => b.count),
          marker: { color: "#3c62d6" },
        },
      ],
      { showlegend: false, yaxis: { rangemode: "tozero", dtick: 1 } },
    );
    let total = 0;
    /** @type {ApiRecord[]} */
    const completions = a.completions_over_time;
    const days = completions.map((d) => d.day);
    const cumulative = completions.map((d) => (total += d.completions));
    const nothing = {
      xaxis: { visible: false },
      yaxis: { visible: false },
      showlegend: false,
      annotations: [
        {
          text: "No completions yet",
          showarrow: false,
          xref: "paper",
          yref: "paper",
          x: 0.5,
          y: 0.5,
          font: { size: 14, color: "#5a6478" },
        },
      ],
    };
    chart(
      "chart-completions",
      [
        {
          type: "scatter",
          mode: "lines+markers",
          name: "Completions",
          x: days,
          y: cumulative,
          line: { color: "#2f9e6b", shape: "hv" },
        },
      ],
      days.length
        ? {
            showlegend: false,
            yaxis: { rangemode: "tozero", dtick: 1 },
            xaxis: { type: "date", tickformat: "%b %d", range: dayRange(days) },
          }
        : nothing,
    );
    replace(
      "qbank-rows",
      a.qbank_questions.length
        ? a.qbank_questions.map((/** @type {ApiRecord} */ q) =>
            h(
              "tr",
              { "data-question-id": q.id },
              h("th", { scope: "row" }, q.prompt),
              h("td", {}, q.topic || "—"),
              h("td", {}, String(q.attempts)),
              h("td", {}, String(q.correct)),
              h("td", {}, q.share_correct === null ? "—" : percent(q.share_correct * 100)),
            ),
          )
        : h(
            "tr",
            {},
            h("td", { colspan: "5", class: "empty" }, "This course has no Q-bank questions."),
          ),
    );
  }

  const queue = refresher(renderRequests);
  const student = refresher(renderStudent);
  /** @type {Record<string, () => Promise<void>>} */
  const pages = {
    "admin-dashboard": refresher(renderDashboard),
    "admin-requests": queue,
    "admin-students": refresher(renderStudents),
    "admin-student": student,
    "admin-courses": refresher(renderCourses),
    "admin-analytics": refresher(renderAnalytics),
  };

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    const render = pages[page || ""];
    if (!render) return;
    if (page === "admin-requests") {
      document.getElementById("request-status")?.addEventListener("change", () => {
        requestPages = 1;
        queue();
      });
      document
        .getElementById("request-more")
        ?.addEventListener("click", () => loadMoreRequests().catch(report));
    }
    if (page === "admin-courses") setUpNewCourse();
    if (page === "admin-students") setUpStudentSearch(render);
    if (page === "admin-student") {
      const enrollForm = /** @type {HTMLFormElement} */ (document.getElementById("enroll-form"));
      enrollForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        const courseId = Number(
          /** @type {HTMLSelectElement} */ (document.getElementById("enroll-course")).value,
        );
        const submitter = /** @type {HTMLButtonElement | null} */ (event.submitter);
        if (!courseId) return;
        await act(
          submitter,
          "POST",
          "/api/v1/admin/enrollments",
          { user_id: Number(document.body.dataset.userId), course_id: courseId },
          "Enrolled.",
        );
        if (submitter) submitter.disabled = false;
        student();
      });
    }
    onEvent(ADMIN_EVENTS, () => render());
    render();
  });
})();
