// The course player: outline with completion marks, and one lesson at a time (video, quiz,
// reading, Q-bank test). Progress, marks and the certificate link update live from the stream.
"use strict";

(() => {
  const { api, h, onEvent, refresher, progressBar, announce, report, replace } = Lectern;
  const courseId = Number(document.body.dataset.courseId);
  /** @type {ApiRecord | null} */
  let course = null;
  /** @type {number | null} */
  let currentLessonId = null;

  /** @returns {ApiRecord[]} */
  function lessons() {
    return course
      ? course.chapters.flatMap((/** @type {ApiRecord} */ chapter) => chapter.lessons)
      : [];
  }

  function outlineLinks() {
    return /** @type {NodeListOf<HTMLAnchorElement>} */ (
      document.querySelectorAll("#outline a[data-lesson-id]")
    );
  }

  // -- live status: progress bar, outline marks, certificate link -------------------------------
  async function renderStatus() {
    /** @type {ApiRecord[][]} */
    const [enrollments, certificates] = await Promise.all([
      api("GET", "/api/v1/me/enrollments"),
      api("GET", "/api/v1/me/certificates"),
    ]);
    const enrollment =
      enrollments.find((e) => e.course_id === courseId && e.status !== "cancelled") || null;
    // Asked only when enrolled: the per-lesson facts of a stranger's course are a 404.
    const detail = enrollment ? await api("GET", `/api/v1/me/courses/${courseId}/progress`) : null;
    const done = new Set(
      detail
        ? /** @type {ApiRecord[]} */ (detail.lessons)
            .filter((m) => m.completed)
            .map((m) => m.lesson_id)
        : [],
    );
    // Enrolled (paid, approved) or unenrolled (refunded) while here: the content opens or closes.
    if (course && Boolean(enrollment) !== Boolean(course.content_access)) refreshOutline();
    const certificate = certificates.find((c) => c.course_id === courseId);
    replace(
      "course-progress",
      enrollment ? progressBar(enrollment.progress, "Course progress") : notEnrolled(),
      certificate
        ? h(
            "div",
            { class: "notice", id: "certificate", style: "margin-top:.75rem" },
            h("p", { style: "margin-top:0" }, "Course complete — your certificate is ready."),
            LecternStudent.certificateLinks(certificate),
          )
        : null,
    );
    replace("course-state", enrollment ? LecternStudent.statusBadge(enrollment.status) : null);
    const paid = new URLSearchParams(location.search).get("payment");
    if (enrollment && paid && paid !== "cancelled" && !document.getElementById("paid-notice")) {
      /** @type {HTMLElement} */ (document.getElementById("course-progress")).before(
        h(
          "p",
          { class: "notice", id: "paid-notice", role: "status" },
          "Payment received: you are enrolled.",
        ),
      );
    }
    for (const link of outlineLinks()) {
      const complete = done.has(Number(link.dataset.lessonId));
      const mark = /** @type {HTMLElement} */ (link.querySelector(".mark"));
      mark.textContent = complete ? "✓" : "○";
      mark.classList.toggle("done", complete);
      link.dataset.completed = String(complete);
      /** @type {HTMLElement} */ (link.querySelector(".visually-hidden")).textContent = complete
        ? " (completed)"
        : " (not completed)";
    }
  }
  const refreshStatus = refresher(renderStatus);

  function notEnrolled() {
    const payment = new URLSearchParams(location.search).get("payment");
    if (payment === "cancelled")
      return h("p", { class: "error" }, "Payment cancelled: you are not enrolled.");
    if (payment)
      return h(
        "p",
        { class: "notice" },
        "Payment received. Your enrollment appears here as soon as it is confirmed.",
      );
    return h(
      "p",
      {},
      "You are not enrolled in this course. ",
      h("a", { href: "/learn/catalog" }, "See the catalog"),
      ".",
    );
  }

  function renderOutline() {
    replace(
      "outline",
      h("h2", { style: "margin-top:0; font-size:1rem" }, "Outline"),
      /** @type {ApiRecord} */ (course).chapters.map((/** @type {ApiRecord} */ chapter) => [
        h("h3", {}, chapter.title),
        h(
          "ol",
          {},
          chapter.lessons.map((/** @type {ApiRecord} */ lesson) =>
            h(
              "li",
              {},
              h(
                "a",
                {
                  href: `?lesson=${lesson.id}`,
                  "data-lesson-id": lesson.id,
                  "data-kind": lesson.kind,
                  "aria-current": lesson.id === currentLessonId ? "true" : null,
                  onclick: (/** @type {MouseEvent} */ event) => {
                    event.preventDefault();
                    show(lesson.id, true);
                  },
                },
                h("span", { class: "mark", "aria-hidden": "true" }, "○"),
                h("span", {}, lesson.title),
                h("span", { class: "visually-hidden" }, " (not completed)"),
              ),
            ),
          ),
        ),
      ]),
    );
  }

  /**
   * @param {number | null} lessonId the course's first lesson when it has no such lesson
   * @param {boolean} push
   */
  function show(lessonId, push) {
    const lesson = lessons().find((l) => l.id === lessonId) || lessons()[0];
    if (!lesson) {
      replace(
        "lesson",
        h("h2", { id: "lesson-title" }, "No lessons yet"),
        h("p", { class: "empty" }, "This course has no lessons yet."),
      );
      return;
    }
    currentLessonId = lesson.id;
    if (push) history.pushState({ lesson: lesson.id }, "", `?lesson=${lesson.id}`);
    for (const link of outlineLinks()) {
      if (Number(link.dataset.lessonId) === lesson.id) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
    /** @type {Record<string, (lesson: ApiRecord) => HTMLElement>} */
    const views = {
      video: videoLesson,
      quiz: quizLesson,
      reading: readingLesson,
      qbank: qbankLesson,
    };
    const view = /** @type {ApiRecord} */ (course).content_access
      ? views[lesson.kind]
      : lockedLesson;
    replace("lesson", h("h2", { id: "lesson-title", tabindex: "-1" }, lesson.title), view(lesson));
    // Chosen from the outline: take keyboard and screen-reader users to the lesson.
    if (push) /** @type {HTMLElement} */ (document.getElementById("lesson-title")).focus();
  }

  // -- locked: the course's content waits until the learner is enrolled -------------------------
  function lockedLesson() {
    const action = h("div", { id: "lesson-access" });
    const locked = /** @type {ApiRecord} */ (course);
    api("GET", "/api/v1/me/access-requests")
      .then((/** @type {ApiRecord[]} */ requests) => {
        const mine = requests
          .filter((r) => r.course_id === courseId)
          .sort((a, b) => b.id - a.id)[0];
        action.replaceChildren(LecternStudent.catalogAction(locked, mine, () => refreshOutline()));
      })
      .catch(report);
    return h(
      "div",
      { class: "stack", id: "lesson-locked" },
      h("p", {}, "The lessons of this course open once you are enrolled."),
      action,
    );
  }

  // -- video: report the ranges actually played, never a seek -----------------------------------
  /**
   * What of [start, end] the covered ranges leave out.
   * @param {[number, number]} range
   * @param {[number, number][]} covered
   * @returns {[number, number][]}
   */
  function subtract([start, end], covered) {
    /** @type {[number, number][]} */
    let pieces = [[start, end]];
    for (const [a, b] of covered) {
      pieces = pieces
        .flatMap(
          ([s, e]) =>
            /** @type {[number, number][]} */ (
              b <= s || a >= e
                ? [[s, e]]
                : [
                    [s, Math.min(e, a)],
                    [Math.max(s, b), e],
                  ]
            ),
        )
        .filter(([s, e]) => e - s > 1e-3);
    }
    return pieces;
  }

  /** @param {ApiRecord} lesson */
  function videoLesson(lesson) {
    const video = h("video", {
      controls: true,
      preload: "metadata",
      src: lesson.video_url,
      "aria-label": `Video: ${lesson.title}`,
      "data-lesson-id": lesson.id,
      "data-duration": lesson.duration_s,
    });
    /** @type {[number, number][]} */
    const reported = [];
    let sending = Promise.resolve();
    let lastFlush = 0;

    function unreported() {
      /** @type {[number, number][]} */
      const pieces = [];
      for (let i = 0; i < video.played.length; i += 1) {
        const end = Math.min(video.played.end(i), lesson.duration_s);
        const start = Math.min(video.played.start(i), end);
        for (const [s, e] of subtract([start, end], reported)) {
          if (e - s >= 0.25 || e >= lesson.duration_s - 0.01) pieces.push([s, e]);
        }
      }
      return pieces;
    }

    /** @param {boolean} [keepalive] */
    function flush(keepalive) {
      lastFlush = performance.now();
      sending = sending.then(async () => {
        const pieces = unreported();
        if (!pieces.length) return;
        const events = pieces.map(([s, e]) => ({
          type: "video.watched",
          lesson_id: lesson.id,
          from_s: Number(s.toFixed(3)),
          to_s: Number(e.toFixed(3)),
        }));
        try {
          const response = await fetch("/api/v1/activity", {
            method: "POST",
            credentials: "same-origin",
            keepalive: Boolean(keepalive),
            headers: {
              "Content-Type": "application/json",
              "X-CSRF-Token": Lectern.cookie("lectern_csrf"),
            },
            body: JSON.stringify({ events }),
          });
          if (response.ok)
            reported.push(
              ...pieces.map(
                ([s, e]) =>
                  /** @type {[number, number]} */ ([Number(s.toFixed(3)), Number(e.toFixed(3))]),
              ),
            );
        } catch (error) {
          report(error);
        }
      });
      return sending;
    }

    video.addEventListener("timeupdate", () => {
      if (performance.now() - lastFlush > 1000) flush();
    });
    for (const name of ["pause", "ended", "seeking"]) video.addEventListener(name, () => flush());
    window.addEventListener("pagehide", () => flush(true));
    return h(
      "div",
      { class: "stack" },
      video,
      h(
        "p",
        { class: "meta" },
        "Watch at least 90 % of the video to complete it. Skipping ahead does not count.",
      ),
    );
  }

  // -- quiz -------------------------------------------------------------------------------------
  /**
   * @param {string} name
   * @param {string} prompt
   * @param {string[]} choices
   * @param {number} number
   * @param {(event: Event & { target: HTMLInputElement }) => void} [onchange]
   */
  function choiceGroup(name, prompt, choices, number, onchange) {
    return h(
      "fieldset",
      {},
      h("legend", {}, `${number}. ${prompt}`),
      choices.map((choice, index) => {
        const id = `${name}-${index}`;
        return h(
          "div",
          { class: "choice" },
          h("input", { type: "radio", id, name, value: String(index), required: true, onchange }),
          h("label", { for: id, style: "font-weight:400" }, choice),
        );
      }),
    );
  }

  /** @param {ApiRecord} lesson */
  function quizLesson(lesson) {
    const result = h("div", { id: "quiz-result", role: "status", "aria-live": "polite" });
    const form = h(
      "form",
      { id: "quiz-form", "data-lesson-id": lesson.id },
      lesson.questions.map((/** @type {ApiRecord} */ q, /** @type {number} */ i) =>
        choiceGroup(`q${i}`, q.prompt, q.choices, i + 1),
      ),
      h("button", { type: "submit" }, "Submit answers"),
      result,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answers = lesson.questions.map((/** @type {unknown} */ _, /** @type {number} */ i) => {
        /** @type {HTMLInputElement | null} */
        const picked = form.querySelector(`input[name=q${i}]:checked`);
        return picked ? Number(picked.value) : -1;
      });
      if (answers.includes(-1)) {
        result.textContent = "Answer every question first.";
        return;
      }
      try {
        const attempt = await api("POST", `/api/v1/lessons/${lesson.id}/quiz-attempts`, {
          answers,
        });
        const pct = Math.round(attempt.score * 100);
        result.replaceChildren(
          h(
            "p",
            { class: attempt.passed ? "notice" : "error", "data-passed": String(attempt.passed) },
            `Score ${pct} % — ${attempt.passed ? "passed." : "not passed yet; try again."}`,
          ),
        );
        announce(`Quiz scored ${pct} %.`);
      } catch (error) {
        result.textContent = error.message;
      }
    });
    return h(
      "div",
      { class: "stack" },
      h("p", { class: "meta" }, `Pass mark ${Math.round((lesson.pass_mark || 0) * 100)} %.`),
      form,
    );
  }

  // -- reading ----------------------------------------------------------------------------------
  /** @param {ApiRecord} lesson */
  function readingLesson(lesson) {
    const body = lesson.body_html
      ? // The server sanitizes body_html.
        Object.assign(h("article", { class: "reading html" }), { innerHTML: lesson.body_html })
      : h("article", { class: "reading" }, lesson.body || "");
    const button = h(
      "button",
      {
        type: "button",
        "data-action": "mark-read",
        onclick: async () => {
          button.disabled = true;
          try {
            const outcome = await api("POST", "/api/v1/activity", {
              events: [{ type: "lesson.completed", lesson_id: lesson.id }],
            });
            /** @type {ApiRecord[]} */
            const results = outcome.results || [];
            const rejected = results.find((r) => !r.accepted);
            if (rejected) throw new Error(rejected.error || "Not accepted.");
            announce("Marked as read.");
          } catch (error) {
            report(error);
            button.disabled = false;
          }
        },
      },
      "Mark as read",
    );
    return h("div", { class: "stack" }, body, button);
  }

  // -- Q-bank test ------------------------------------------------------------------------------
  function qbankLesson() {
    const area = h("div", { id: "qbank-area", class: "stack" });
    const countId = "qbank-count";
    const start = h(
      "form",
      { id: "qbank-start", class: "row" },
      h("label", { for: countId }, "Questions"),
      h(
        "select",
        { id: countId, name: "count" },
        [5, 10, 20].map((n) => h("option", { value: String(n) }, String(n))),
      ),
      h("button", { type: "submit" }, "Start test"),
    );
    start.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const test = await api("POST", `/api/v1/courses/${courseId}/qbank-tests`, {
          count: Number(/** @type {NamedForm} */ (start).elements.count.value),
        });
        runTest(test, area);
      } catch (error) {
        area.replaceChildren(h("p", { class: "error" }, error.message));
      }
    });
    return h(
      "div",
      { class: "stack" },
      h(
        "p",
        { class: "meta" },
        "Practise with questions drawn from the course bank. Feedback comes at the end.",
      ),
      start,
      area,
    );
  }

  /**
   * @param {ApiRecord} test
   * @param {HTMLElement} area
   */
  function runTest(test, area) {
    /** @type {Record<number, number>} */
    const chosen = {};
    const status = h("p", { role: "status", "aria-live": "polite" });
    const form = h(
      "form",
      { id: "qbank-test", "data-test-id": test.id },
      test.questions.map((/** @type {ApiRecord} */ q, /** @type {number} */ i) =>
        choiceGroup(`t${test.id}-${q.id}`, q.prompt, q.choices, i + 1, async (event) => {
          chosen[q.id] = Number(event.target.value);
          try {
            await api("POST", `/api/v1/qbank-tests/${test.id}/answers`, {
              question_id: q.id,
              choice: chosen[q.id],
            });
          } catch (error) {
            status.textContent = error.message;
          }
        }),
      ),
      h("button", { type: "submit" }, "Finish test"),
      status,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const finished = await api("POST", `/api/v1/qbank-tests/${test.id}/finish`, {});
        area.replaceChildren(feedback(test, chosen, finished));
        announce("Test finished.");
      } catch (error) {
        status.textContent = error.message;
      }
    });
    area.replaceChildren(form);
  }

  /**
   * @param {ApiRecord} test
   * @param {Record<number, number>} chosen the learner's choice for each question id
   * @param {ApiRecord} finished
   */
  function feedback(test, chosen, finished) {
    /** @type {Record<number, ApiRecord>} */
    const results = {};
    for (const r of finished.results || finished.questions || finished.answers || [])
      results[r.question_id ?? r.id] = r;
    const pct = Math.round((finished.score || 0) * 100);
    return h(
      "section",
      { id: "qbank-feedback", "aria-labelledby": "qbank-feedback-title", class: "card" },
      h("h3", { id: "qbank-feedback-title" }, `Your result: ${pct} %`),
      h(
        "ol",
        { class: "feedback" },
        test.questions.map((/** @type {ApiRecord} */ q) => {
          const r = results[q.id] || {};
          const correct = r.is_correct ?? r.correct;
          const answer = r.answer ?? r.correct_choice;
          const picked = chosen[q.id];
          return h(
            "li",
            { class: correct ? "right" : "wrong", "data-correct": String(Boolean(correct)) },
            h("strong", {}, correct ? "Correct: " : "Incorrect: "),
            q.prompt,
            h("div", {}, "Your answer: ", picked === undefined ? "none" : q.choices[picked]),
            !correct && answer !== undefined
              ? h("div", {}, "Right answer: ", q.choices[answer])
              : null,
          );
        }),
      ),
    );
  }

  // Content changed while the learner is here: redraw the outline, keep the open lesson.
  const refreshOutline = refresher(async () => {
    const wasOpen = course?.content_access;
    course = await api("GET", `/api/v1/courses/${courseId}`);
    renderOutline();
    const opened = /** @type {ApiRecord} */ (course).content_access !== wasOpen;
    if (opened || !lessons().some((l) => l.id === currentLessonId)) show(currentLessonId, false);
    await refreshStatus();
  });

  window.LecternPlayer = { subtract };

  // -- start ------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", async () => {
    try {
      course = await api("GET", `/api/v1/courses/${courseId}`);
    } catch (error) {
      replace("lesson", h("p", { class: "error" }, error.message));
      return;
    }
    const loaded = /** @type {ApiRecord} */ (course);
    /** @type {HTMLElement} */ (document.getElementById("course-title")).textContent = loaded.title;
    document.title = `${loaded.title} · Lectern`;
    renderOutline();
    const wanted = Number(new URLSearchParams(location.search).get("lesson"));
    show(wanted, false);
    refreshStatus();
    window.addEventListener("popstate", () =>
      show(Number(new URLSearchParams(location.search).get("lesson")), false),
    );
    onEvent(["progress.", "certificate.", "enrollment.", "lesson.", "quiz.", "qbank."], () =>
      refreshStatus(),
    );
    onEvent(["content.", "course."], () => refreshOutline());
  });
})();
