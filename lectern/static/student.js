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
    "waitlist.",
    "catalog.",
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
      expired: "bad",
      waitlisted: "warn",
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
              accessEnd(e),
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
   * When an enrollment's access ends or ended, if it does.
   * @param {ApiRecord} enrollment
   */
  function accessEnd(enrollment) {
    if (!enrollment.ends_at) return null;
    const ended = enrollment.status === "expired";
    return h(
      "p",
      { class: "meta", "data-test": "access-end" },
      `${ended ? "Access ended" : "Access until"} ${when(enrollment.ends_at)}`,
    );
  }

  /**
   * Whether the course takes learners now, by its enrollment window.
   * @param {ApiRecord} course
   */
  function enrollmentOpen(course) {
    const now = Date.now();
    const opens = course.enrollment_opens_at && Date.parse(course.enrollment_opens_at);
    const closes = course.enrollment_closes_at && Date.parse(course.enrollment_closes_at);
    return (!opens || opens <= now) && (!closes || now < closes);
  }

  /**
   * The course's terms a learner weighs before joining: window, seats and access duration.
   * @param {ApiRecord} course
   */
  function courseTerms(course) {
    const terms = [];
    const now = Date.now();
    if (course.enrollment_opens_at && Date.parse(course.enrollment_opens_at) > now) {
      terms.push(`Enrollment opens ${when(course.enrollment_opens_at)}`);
    } else if (course.enrollment_closes_at) {
      const closed = Date.parse(course.enrollment_closes_at) <= now;
      terms.push(`Enrollment ${closed ? "closed" : "closes"} ${when(course.enrollment_closes_at)}`);
    }
    if (course.seat_limit !== null && course.seat_limit !== undefined) {
      terms.push(
        course.seats_left === 0
          ? `Full (${course.seat_limit} seats)${course.waitlist ? ", waitlist open" : ""}`
          : `${course.seats_left ?? course.seat_limit} of ${course.seat_limit} seats left`,
      );
    }
    if (course.access_days) terms.push(`Access for ${course.access_days} days`);
    return terms.length
      ? h("p", { class: "meta", "data-test": "course-terms" }, terms.join(" · "))
      : null;
  }

  /**
   * Enroll, or join the waitlist of a full course (answered 202 with a place in line).
   * @param {ApiRecord} course
   * @param {HTMLButtonElement} button
   */
  async function enroll(course, button) {
    button.disabled = true;
    try {
      const answer = await api("POST", `/api/v1/courses/${course.id}/enroll`, {});
      announce(
        answer.position
          ? `${course.title} is full: you are number ${answer.position} on its waitlist.`
          : `Enrolled in ${course.title}.`,
      );
    } catch (error) {
      report(error);
      button.disabled = false;
    }
  }

  /**
   * @param {ApiRecord} course
   * @param {() => void} refresh
   */
  function waitlistPlace(course, refresh) {
    return h(
      "div",
      { class: "row" },
      statusBadge("waitlisted"),
      h("span", { "data-test": "waitlist-position" }, `Number ${course.waitlist_position} in line`),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "data-action": "leave-waitlist",
          onclick: async (/** @type {ButtonClick} */ e) => {
            await act(
              e.target,
              "DELETE",
              `/api/v1/courses/${course.id}/waitlist`,
              "You left the waitlist.",
            );
            refresh();
          },
        },
        "Leave waitlist",
      ),
    );
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
    if (course.waitlist_position) return waitlistPlace(course, refresh);
    const parts = [];
    if (state === "expired") parts.push(statusBadge("expired"));
    if (!enrollmentOpen(course)) {
      parts.push(h("p", { class: "meta", "data-test": "enrollment-closed" }, "Enrollment closed."));
      return h("div", { class: "stack" }, parts);
    }
    if (course.seats_left === 0 && !course.waitlist) {
      parts.push(h("p", { class: "meta", "data-test": "course-full" }, "No seat left."));
      return h("div", { class: "stack" }, parts);
    }
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
              await enroll(course, e.target);
              refresh();
            },
          },
          course.seats_left === 0 ? "Join waitlist" : "Enroll",
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
              c.image_url ? h("img", { class: "course-image", src: c.image_url, alt: "" }) : null,
              h(
                "h2",
                { style: "margin-top:0; font-size:1.1rem" },
                h("a", { href: `/learn/catalog/${c.id}` }, c.title),
              ),
              h(
                "p",
                { class: "meta" },
                h("span", { class: "badge" }, c.access),
                " ",
                c.access === "paid" ? money(c.price_cents, c.currency) : "",
              ),
              c.description ? h("p", {}, c.description) : null,
              courseTerms(c),
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

  // -- a course's details: what it is, what it costs, how many seats, who teaches, its outline --
  /** @param {ApiRecord} course */
  function seatsText(course) {
    if (course.seat_limit === null || course.seat_limit === undefined) return null;
    if (course.seats_left === null || course.seats_left === undefined)
      return `${course.seat_limit} seats`;
    return `${course.seats_left} of ${course.seat_limit} seats free`;
  }

  /** @param {ApiRecord} course */
  function courseFacts(course) {
    /** @type {[string, Child][]} */
    const facts = [["Access", course.access]];
    if (course.access === "paid") facts.push(["Price", money(course.price_cents, course.currency)]);
    const seats = seatsText(course);
    if (seats) facts.push(["Seats", seats]);
    if (course.enrollment_opens_at)
      facts.push(["Enrollment opens", when(course.enrollment_opens_at)]);
    if (course.enrollment_closes_at)
      facts.push(["Enrollment closes", when(course.enrollment_closes_at)]);
    if (course.access_days) facts.push(["Access lasts", `${course.access_days} days`]);
    /** @type {ApiRecord[]} */
    const staff = course.staff || [];
    if (staff.length)
      facts.push([
        "Taught by",
        staff.map((/** @type {ApiRecord} */ s) => s.full_name || s.name).join(", "),
      ]);
    const lessons = course.chapters.reduce(
      (/** @type {number} */ n, /** @type {ApiRecord} */ c) => n + c.lessons.length,
      0,
    );
    facts.push(["Outline", `${course.chapters.length} chapters, ${lessons} lessons`]);
    return h(
      "dl",
      { class: "facts" },
      facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
    );
  }

  /** @param {ApiRecord} lesson */
  function lessonSummary(lesson) {
    const minutes = lesson.kind === "video" ? Math.max(1, Math.round(lesson.duration_s / 60)) : 0;
    return h(
      "li",
      {},
      lesson.title,
      h("span", { class: "meta" }, ` · ${lesson.kind}${minutes ? `, ${minutes} min` : ""}`),
    );
  }

  async function renderCourseDetails() {
    const id = Number(document.body.dataset.courseId);
    /** @type {[ApiRecord, ApiRecord[]]} */
    const [course, requests] = await Promise.all([
      api("GET", `/api/v1/courses/${id}`),
      api("GET", "/api/v1/me/access-requests"),
    ]);
    const request = requests.filter((r) => r.course_id === id).sort((a, b) => b.id - a.id)[0];
    document.title = `${course.title} · Lectern`;
    /** @type {HTMLElement} */ (document.getElementById("details-title")).textContent =
      course.title;
    replace(
      "details-body",
      course.image_url ? h("img", { class: "course-image", src: course.image_url, alt: "" }) : null,
      course.description ? h("p", { class: "lead" }, course.description) : null,
      h(
        "div",
        { class: "cols" },
        h(
          "section",
          { class: "card", "aria-labelledby": "details-outline" },
          h("h2", { id: "details-outline", style: "margin-top:0" }, "Outline"),
          course.chapters.length
            ? h(
                "ol",
                { class: "stack" },
                course.chapters.map((/** @type {ApiRecord} */ chapter) =>
                  h(
                    "li",
                    {},
                    h("strong", {}, chapter.title),
                    h("ul", {}, chapter.lessons.map(lessonSummary)),
                  ),
                ),
              )
            : h("p", { class: "empty" }, "No lessons yet."),
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "details-facts" },
          h("h2", { id: "details-facts", style: "margin-top:0" }, "At a glance"),
          courseFacts(course),
          h("div", { style: "margin-top:1rem" }, catalogAction(course, request, details)),
        ),
      ),
    );
    /** @type {HTMLElement} */ (document.getElementById("course-details")).setAttribute(
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
              h("td", {}, statusBadge(e.status), accessEnd(e)),
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
  const details = refresher(renderCourseDetails);
  const notificationsPage = refresher(renderNotifications);
  /** @type {Record<string, () => Promise<void>>} */
  const pages = {
    "student-dashboard": refresher(renderDashboard),
    "student-catalog": catalog,
    "student-course_details": details,
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
