// The student app: dashboard, catalog, progress, certificates and notifications.
"use strict";

(() => {
  const { api, h, onEvent, refresher, progressBar, announce, report, when, money, replace } =
    Lectern;
  const LEARNER_EVENTS = [
    "enrollment.",
    "request.",
    "progress.",
    "certificate.",
    "notification.",
    "payment.",
    "course.",
  ];

  /** @param {string} status */
  function statusBadge(status) {
    /** @type {Record<string, string>} */
    const tones = {
      active: "good",
      enrolled: "good",
      completed: "good",
      pending: "warn",
      rejected: "bad",
      cancelled: "bad",
    };
    const tone = tones[status] || "";
    return h("span", { class: `badge ${tone}`, "data-status": status }, status);
  }

  /** @param {ApiRecord} certificate */
  function certificateLinks(certificate) {
    const pdf = `/api/v1/certificates/${encodeURIComponent(certificate.code)}.pdf`;
    return h(
      "div",
      { class: "row" },
      h(
        "a",
        {
          class: "button",
          href: pdf,
          download: `certificate-${certificate.code}.pdf`,
          "data-test": "certificate-pdf",
        },
        "Download PDF",
      ),
      h(
        "a",
        {
          class: "button secondary",
          href: `/verify/${encodeURIComponent(certificate.code)}`,
          "data-test": "certificate-verify",
        },
        "Verification link",
      ),
    );
  }

  // -- dashboard ------------------------------------------------------------------------------
  async function renderDashboard() {
    /** @type {ApiRecord[][]} */
    const [enrollments, requests, notifications] = await Promise.all([
      api("GET", "/api/v1/me/enrollments"),
      api("GET", "/api/v1/me/access-requests"),
      api("GET", "/api/v1/me/notifications?limit=5"),
    ]);
    const current = enrollments.filter((e) => e.status !== "cancelled");
    replace(
      "courses",
      current.length
        ? current.map((e) =>
            h(
              "article",
              { class: "card", "data-course-id": e.course_id, "data-enrollment-status": e.status },
              h("h3", {}, h("a", { href: `/learn/courses/${e.course_id}` }, e.course_title)),
              h("p", { class: "meta" }, statusBadge(e.status), " via ", e.source),
              progressBar(e.progress, `Progress in ${e.course_title}`),
            ),
          )
        : h(
            "p",
            { class: "empty" },
            "No courses yet. ",
            h("a", { href: "/learn/catalog" }, "Browse the catalog"),
            ".",
          ),
    );
    /** @type {HTMLElement} */ (document.getElementById("courses")).setAttribute(
      "aria-busy",
      "false",
    );
    const pending = requests.filter((r) => r.status === "pending");
    replace(
      "requests",
      pending.length
        ? pending.map((r) =>
            h(
              "li",
              { class: "card", "data-request-id": r.id },
              h("strong", {}, r.course_title),
              " ",
              statusBadge(r.status),
              h("div", { class: "meta" }, `Asked ${when(r.created_at)}`),
            ),
          )
        : h("li", { class: "empty" }, "No pending requests."),
    );
    replace(
      "notifications",
      notifications.length
        ? notifications.map(notificationItem)
        : h("li", { class: "empty" }, "Nothing new."),
    );
  }

  /** @param {ApiRecord} n */
  function notificationItem(n) {
    return h(
      "li",
      { class: "card", "data-notification-id": n.id },
      h("strong", {}, n.title),
      n.read_at ? null : h("span", { class: "badge warn", style: "margin-left:.5rem" }, "new"),
      n.body ? h("div", {}, n.body) : null,
      h("div", { class: "meta" }, when(n.created_at)),
    );
  }

  // -- catalog --------------------------------------------------------------------------------
  /**
   * @param {HTMLButtonElement} button
   * @param {string} method
   * @param {string} path
   * @param {string} message
   */
  async function act(button, method, path, message) {
    button.disabled = true;
    try {
      const result = await api(method, path, {});
      announce(message);
      return result;
    } catch (error) {
      report(error);
      button.disabled = false;
      return null;
    }
  }

  /**
   * @param {ApiRecord} course
   * @param {HTMLButtonElement} button
   */
  async function buy(course, button) {
    const checkout = await act(
      button,
      "POST",
      `/api/v1/courses/${course.id}/checkout`,
      "Opening checkout…",
    );
    const url = checkout && (checkout.checkout_url || checkout.url);
    if (url) location.assign(url);
  }

  /**
   * @param {ApiRecord} course
   * @param {ApiRecord | undefined} request the student's latest request for the course
   * @param {() => void} refresh
   */
  function catalogAction(course, request, refresh) {
    const state = course.enrollment_status;
    if (state === "active" || state === "completed") {
      return h(
        "div",
        { class: "row" },
        statusBadge(state === "active" ? "enrolled" : "completed"),
        h(
          "a",
          { class: "button", href: `/learn/courses/${course.id}`, "data-action": "open" },
          "Open course",
        ),
      );
    }
    if (course.request_status === "pending" && request) {
      return h(
        "div",
        { class: "row" },
        statusBadge("pending"),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            "data-action": "cancel",
            onclick: async (/** @type {ButtonClick} */ e) => {
              await act(
                e.target,
                "DELETE",
                `/api/v1/access-requests/${request.id}`,
                "Request cancelled.",
              );
              refresh();
            },
          },
          "Cancel request",
        ),
      );
    }
    const parts = [];
    if (course.request_status === "rejected") {
      parts.push(
        h(
          "p",
          { class: "error", "data-test": "rejected-note" },
          "Request rejected",
          request?.note ? `: ${request.note}` : ".",
        ),
      );
    }
    if (course.access === "open" || course.access === "default") {
      parts.push(
        h(
          "button",
          {
            type: "button",
            "data-action": "enroll",
            onclick: async (/** @type {ButtonClick} */ e) => {
              await act(
                e.target,
                "POST",
                `/api/v1/courses/${course.id}/enroll`,
                `Enrolled in ${course.title}.`,
              );
              refresh();
            },
          },
          "Enroll",
        ),
      );
    } else if (course.access === "approval") {
      parts.push(
        h(
          "button",
          {
            type: "button",
            "data-action": "request",
            onclick: async (/** @type {ButtonClick} */ e) => {
              await act(
                e.target,
                "POST",
                `/api/v1/courses/${course.id}/access-requests`,
                "Access requested.",
              );
              refresh();
            },
          },
          course.request_status === "rejected" ? "Request again" : "Request access",
        ),
      );
    } else if (course.access === "paid") {
      parts.push(
        h(
          "button",
          {
            type: "button",
            "data-action": "buy",
            onclick: (/** @type {ButtonClick} */ e) => buy(course, e.target),
          },
          `Buy for ${money(course.price_cents, course.currency)}`,
        ),
      );
    }
    return h("div", { class: "stack" }, parts);
  }

  async function renderCatalog() {
    /** @type {ApiRecord[][]} */
    const [courses, requests] = await Promise.all([
      api("GET", "/api/v1/courses"),
      api("GET", "/api/v1/me/access-requests"),
    ]);
    /** @type {Record<number, ApiRecord>} */
    const latest = {};
    for (const r of requests)
      if (!latest[r.course_id] || latest[r.course_id].id < r.id) latest[r.course_id] = r;
    replace(
      "catalog",
      courses.length
        ? courses.map((c) =>
            h(
              "article",
              {
                class: "card",
                "data-course-id": c.id,
                "data-state": c.enrollment_status || c.request_status || "none",
              },
              h("h2", { style: "margin-top:0; font-size:1.1rem" }, c.title),
              h(
                "p",
                { class: "meta" },
                h("span", { class: "badge" }, c.access),
                " ",
                c.access === "paid" ? money(c.price_cents, c.currency) : "",
              ),
              c.description ? h("p", {}, c.description) : null,
              catalogAction(c, latest[c.id], catalog),
            ),
          )
        : h("p", { class: "empty" }, "No courses are published yet."),
    );
    /** @type {HTMLElement} */ (document.getElementById("catalog")).setAttribute(
      "aria-busy",
      "false",
    );
  }

  // -- progress, certificates, notifications ---------------------------------------------------
  async function renderProgress() {
    /** @type {ApiRecord[]} */
    const enrollments = await api("GET", "/api/v1/me/enrollments");
    replace(
      "progress-rows",
      enrollments.length
        ? enrollments.map((e) =>
            h(
              "tr",
              { "data-course-id": e.course_id },
              h(
                "th",
                { scope: "row" },
                h("a", { href: `/learn/courses/${e.course_id}` }, e.course_title),
              ),
              h("td", {}, statusBadge(e.status)),
              h(
                "td",
                { style: "min-width:180px" },
                progressBar(e.progress, `Progress in ${e.course_title}`),
              ),
              h("td", {}, when(e.completed_at)),
            ),
          )
        : h("tr", {}, h("td", { colspan: "4", class: "empty" }, "No enrollments yet.")),
    );
  }

  async function renderCertificates() {
    /** @type {ApiRecord[]} */
    const certificates = await api("GET", "/api/v1/me/certificates");
    replace(
      "certificates",
      certificates.length
        ? certificates.map((c) =>
            h(
              "article",
              { class: "card", "data-code": c.code },
              h("h2", { style: "margin-top:0; font-size:1.1rem" }, c.course_title),
              h("p", { class: "meta" }, "Issued to ", c.learner_name, " on ", when(c.issued_at)),
              h("p", {}, "Code ", h("code", {}, c.code)),
              h(
                "p",
                { class: "meta" },
                "Anyone can check it at ",
                h("code", {}, `${location.origin}/verify/${c.code}`),
              ),
              certificateLinks(c),
            ),
          )
        : h("p", { class: "empty" }, "Finish a course to earn its certificate."),
    );
    /** @type {HTMLElement} */ (document.getElementById("certificates")).setAttribute(
      "aria-busy",
      "false",
    );
  }

  async function renderNotifications() {
    /** @type {ApiRecord[]} */
    const notifications = await api("GET", "/api/v1/me/notifications?limit=100");
    replace(
      "notification-list",
      notifications.length
        ? notifications.map((n) => {
            const item = notificationItem(n);
            if (!n.read_at) {
              item.append(
                h(
                  "button",
                  {
                    type: "button",
                    class: "secondary",
                    "data-action": "read",
                    onclick: async (/** @type {ButtonClick} */ e) => {
                      await act(
                        e.target,
                        "POST",
                        `/api/v1/me/notifications/${n.id}/read`,
                        "Marked as read.",
                      );
                      notificationsPage();
                      Lectern.refreshCounts();
                    },
                  },
                  "Mark as read",
                ),
              );
            }
            return item;
          })
        : h("li", { class: "empty" }, "No notifications."),
    );
    /** @type {HTMLElement} */ (document.getElementById("notification-list")).setAttribute(
      "aria-busy",
      "false",
    );
  }

  const catalog = refresher(renderCatalog);
  const notificationsPage = refresher(renderNotifications);
  /** @type {Record<string, () => Promise<void>>} */
  const pages = {
    "student-dashboard": refresher(renderDashboard),
    "student-catalog": catalog,
    "student-progress": refresher(renderProgress),
    "student-certificates": refresher(renderCertificates),
    "student-notifications": notificationsPage,
  };

  window.LecternStudent = { certificateLinks, statusBadge, catalogAction };

  document.addEventListener("DOMContentLoaded", () => {
    const render = pages[document.body.dataset.page || ""];
    if (!render) return;
    onEvent(LEARNER_EVENTS, () => render());
    render();
  });
})();
