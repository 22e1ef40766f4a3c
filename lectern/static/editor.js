// The admin course editor: settings, chapters and lessons (with quiz questions), and the Q-bank.
"use strict";

(() => {
  const { api, h, onEvent, refresher, announce, report, replace, confirmAction } = Lectern;
  const courseId = Number(document.body.dataset.courseId);
  const form = () => /** @type {NamedForm} */ (document.getElementById("course-settings"));
  const KINDS = ["video", "quiz", "reading", "qbank"];

  /**
   * An ISO 8601 time as a datetime-local control shows it: the browser's local time.
   * @param {string | null} iso
   */
  function localInput(iso) {
    if (!iso) return "";
    const moment = new Date(iso);
    return new Date(moment.getTime() - moment.getTimezoneOffset() * 60_000)
      .toISOString()
      .slice(0, 16);
  }

  /**
   * A datetime-local control's value as an ISO 8601 time with its offset; empty is null.
   * @param {string} value
   */
  function isoOrNull(value) {
    return value ? new Date(value).toISOString() : null;
  }

  /**
   * A number control's value; empty is null.
   * @param {string} value
   */
  function numberOrNull(value) {
    return value === "" ? null : Number(value);
  }

  /** @param {ApiRecord} course */
  function fillSettings(course) {
    const f = form();
    f.elements.title.value = course.title;
    f.elements.description.value = course.description || "";
    f.elements.status.value = course.status;
    f.elements.access.value = course.access;
    f.elements.price_cents.value = String(course.price_cents);
    f.elements.currency.value = course.currency;
    f.elements.qbank_pass_mark.value = String(course.qbank_pass_mark);
    f.elements.qbank_required.checked = Boolean(course.qbank_required);
    f.elements.enrollment_opens_at.value = localInput(course.enrollment_opens_at);
    f.elements.enrollment_closes_at.value = localInput(course.enrollment_closes_at);
    f.elements.access_days.value = course.access_days == null ? "" : String(course.access_days);
    f.elements.seat_limit.value = course.seat_limit == null ? "" : String(course.seat_limit);
    f.elements.waitlist.checked = Boolean(course.waitlist);
    /** @type {HTMLElement} */ (document.getElementById("editor-title")).textContent =
      `Edit: ${course.title}`;
  }

  /** @param {ApiRecord} course */
  function showImage(course) {
    const image = /** @type {HTMLImageElement} */ (document.getElementById("course-image"));
    image.hidden = !course.image_url;
    if (course.image_url) image.src = course.image_url;
    /** @type {HTMLElement} */ (document.getElementById("remove-image")).hidden = !course.image_url;
  }

  // The image goes as the request body itself, not JSON: PUT /api/v1/courses/{id}/image.
  /** @param {Blob | null} file */
  async function sendImage(file) {
    const result = /** @type {HTMLElement} */ (document.getElementById("image-result"));
    const response = await fetch(`/api/v1/courses/${courseId}/image`, {
      method: file ? "PUT" : "DELETE",
      headers: {
        "X-CSRF-Token": Lectern.cookie("lectern_csrf"),
        ...(file ? { "Content-Type": file.type || "application/octet-stream" } : {}),
      },
      credentials: "same-origin",
      body: file,
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      result.textContent =
        response.status === 413
          ? "This file is too large; upload a smaller image."
          : problem?.detail || `Upload failed (${response.status}).`;
      result.className = "error";
      return;
    }
    result.textContent = file ? "Image saved." : "Image removed.";
    result.className = "";
    showImage(await api("GET", `/api/v1/courses/${courseId}`));
  }

  // Empties a submitted form at once and gives its values back if the change fails, so that
  // an author who starts the next entry while the first is saving never loses what they type.
  /**
   * @param {HTMLFormElement} form
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @param {string} message
   * @param {() => void} [afterReset]
   */
  async function submitted(form, method, path, body, message, afterReset) {
    const controls = /** @type {HTMLInputElement[]} */ ([...form.elements]);
    /** @type {[HTMLInputElement, string, boolean][]} */
    const saved = controls.map((el) => [el, el.value, el.checked]);
    form.reset();
    if (afterReset) afterReset();
    const result = await send(method, path, body, message);
    if (!result) {
      for (const [el, value, checked] of saved) {
        el.value = value;
        el.checked = checked;
      }
      if (afterReset) afterReset();
    }
    return result;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @param {string} message
   */
  async function send(method, path, body, message) {
    try {
      const result = await api(method, path, body);
      announce(message);
      refresh();
      return result;
    } catch (error) {
      report(error);
      return null;
    }
  }

  /**
   * A labelled control; `name` is the API field it edits, where its messages are shown.
   * @param {string} id
   * @param {string} label
   * @param {HTMLElement} control
   * @param {string} [name]
   */
  function field(id, label, control, name) {
    control.id = id;
    if (name) control.setAttribute("name", name);
    return h("div", { class: "field" }, h("label", { for: id }, label), control);
  }

  /**
   * Move up and Move down buttons for one of `ids`, which POST the new order to `path`.
   * @param {number[]} ids
   * @param {number} index
   * @param {string} what the part's name, for the buttons' labels
   * @param {string} path
   * @param {string} key "lesson_ids" or "chapter_ids"
   */
  function moveButtons(ids, index, what, path, key) {
    /** @param {number} by */
    const move = (by) => {
      const order = [...ids];
      [order[index], order[index + by]] = [order[index + by], order[index]];
      send("POST", path, { [key]: order }, `Moved ${what} ${by < 0 ? "up" : "down"}.`);
    };
    return [
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Move ${what} up`,
          disabled: index === 0,
          onclick: () => move(-1),
        },
        "↑",
      ),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Move ${what} down`,
          disabled: index === ids.length - 1,
          onclick: () => move(1),
        },
        "↓",
      ),
    ];
  }

  /**
   * The fields of a lesson an author may change in place, by its kind.
   * @param {ApiRecord} lesson
   */
  function lessonDetailsForm(lesson) {
    const key = `l${lesson.id}-edit`;
    const title = h("input", { required: true, maxlength: "200", value: lesson.title });
    const controls = [field(`${key}-title`, "Lesson title", title, "title")];
    /** @type {() => ApiRecord} */
    let values = () => ({ title: title.value });
    if (lesson.kind === "video") {
      const duration = h("input", {
        type: "number",
        min: "1",
        step: "1",
        value: String(Math.round(lesson.duration_s || 0)),
      });
      const url = h("input", { maxlength: "2000", value: lesson.video_url || "" });
      controls.push(
        field(`${key}-duration`, "Duration (seconds)", duration, "duration_s"),
        field(`${key}-url`, "Video URL", url, "video_url"),
      );
      values = () => ({
        title: title.value,
        duration_s: Number(duration.value),
        video_url: url.value,
      });
    } else if (lesson.kind === "reading") {
      const body = h("textarea", {}, lesson.body || "");
      controls.push(field(`${key}-body`, "Text (Markdown)", body, "body"));
      values = () => ({ title: title.value, body: body.value });
    } else if (lesson.kind === "quiz") {
      const passMark = h("input", {
        type: "number",
        min: "0",
        max: "1",
        step: "0.05",
        value: String(lesson.pass_mark),
      });
      controls.push(field(`${key}-pass`, "Pass mark (0–1)", passMark, "pass_mark"));
      values = () => ({ title: title.value, pass_mark: Number(passMark.value) });
    }
    return editInPlace(
      `Edit ${lesson.title}`,
      `/api/v1/lessons/${lesson.id}`,
      values,
      "Lesson saved.",
      controls,
      "Save changes",
    );
  }

  // Authors type choices one per line and the correct one by its number (from 1).
  /**
   * @param {string} prompt
   * @param {string} choicesText
   * @param {string} answerNumber
   * @param {Record<string, unknown>} [extra]
   */
  function question(prompt, choicesText, answerNumber, extra) {
    const choices = choicesText
      .split("\n")
      .map((c) => c.trim())
      .filter(Boolean);
    return { prompt: prompt.trim(), choices, answer: Number(answerNumber) - 1, ...(extra || {}) };
  }

  /** @param {ApiRecord[]} questions */
  function questionList(questions) {
    return h(
      "ol",
      {},
      questions.map((q) =>
        h(
          "li",
          {},
          q.prompt,
          h(
            "ul",
            {},
            q.choices.map((/** @type {string} */ choice, /** @type {number} */ i) =>
              h(
                "li",
                {},
                choice,
                i === q.answer
                  ? h("span", { class: "badge good", style: "margin-left:.4rem" }, "correct")
                  : null,
              ),
            ),
          ),
        ),
      ),
    );
  }

  /**
   * @param {ApiRecord} lesson
   * @param {ApiRecord} chapter
   * @param {number} index
   */
  function lessonEditor(lesson, chapter, index) {
    const key = `l${lesson.id}`;
    const required = h("input", {
      type: "checkbox",
      id: `${key}-required`,
      checked: lesson.required,
    });
    const weight = h("input", {
      type: "number",
      min: "0.1",
      step: "0.1",
      value: String(lesson.weight),
    });
    const facts = [lesson.kind];
    if (lesson.kind === "video") facts.push(`${Math.round(lesson.duration_s)} s`);
    if (lesson.kind === "quiz")
      facts.push(`pass mark ${Math.round((lesson.pass_mark || 0) * 100)} %`);
    /** @type {HTMLElement[]} */
    const parts = [
      h(
        "div",
        { class: "row", style: "justify-content: space-between" },
        h("strong", {}, lesson.title),
        h("span", { class: "meta" }, facts.join(" · ")),
        h(
          "div",
          { class: "row" },
          moveButtons(
            chapter.lessons.map((/** @type {ApiRecord} */ l) => l.id),
            index,
            `lesson ${lesson.title}`,
            `/api/v1/chapters/${chapter.id}/lessons/order`,
            "lesson_ids",
          ),
        ),
      ),
      h(
        "form",
        {
          class: "row",
          onsubmit: (/** @type {SubmitEvent} */ event) => {
            event.preventDefault();
            send(
              "PATCH",
              `/api/v1/lessons/${lesson.id}`,
              { required: required.checked, weight: Number(weight.value) },
              "Lesson saved.",
            );
          },
        },
        h("label", { class: "choice", for: `${key}-required` }, required, "Required"),
        h("label", { for: `${key}-weight` }, "Weight"),
        Object.assign(weight, { id: `${key}-weight` }),
        h(
          "button",
          { type: "submit", class: "secondary", "aria-label": `Save ${lesson.title}` },
          "Save",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            "aria-label": `Delete lesson ${lesson.title}`,
            onclick: async () => {
              const question = `Delete the lesson ${lesson.title}? Learners' work on it is removed too.`;
              if (await confirmAction(question, "Delete lesson"))
                send("DELETE", `/api/v1/lessons/${lesson.id}`, undefined, "Lesson deleted.");
            },
          },
          "Delete",
        ),
      ),
      lessonDetailsForm(lesson),
    ];
    if (lesson.kind === "quiz") {
      const prompt = h("input", { required: true, maxlength: "4000" });
      const choices = h("textarea", { required: true });
      const answer = h("input", { type: "number", min: "1", value: "1", required: true });
      parts.push(
        h(
          "details",
          {},
          h("summary", {}, `${(lesson.questions || []).length} quiz questions`),
          questionList(lesson.questions || []),
          h(
            "form",
            {
              class: "stack",
              onsubmit: (/** @type {SubmitEvent} */ event) => {
                event.preventDefault();
                const questions = [
                  ...(lesson.questions || []),
                  question(prompt.value, choices.value, answer.value),
                ];
                send("PATCH", `/api/v1/lessons/${lesson.id}`, { questions }, "Question added.");
              },
            },
            field(`${key}-q-prompt`, "New question", prompt, "questions"),
            field(`${key}-q-choices`, "Choices, one per line", choices),
            field(`${key}-q-answer`, "Number of the correct choice", answer),
            h("button", { type: "submit", class: "secondary" }, "Add quiz question"),
          ),
        ),
      );
    }
    return h("li", { class: "card", "data-lesson-id": lesson.id }, parts);
  }

  /** @param {ApiRecord} chapter */
  function addLessonForm(chapter) {
    const key = `c${chapter.id}`;
    const kind = h(
      "select",
      {},
      KINDS.map((k) => h("option", { value: k }, k)),
    );
    const title = h("input", { required: true, maxlength: "200" });
    const duration = h("input", { type: "number", min: "1", step: "1", value: "60" });
    const url = h("input", { maxlength: "2000", placeholder: "/media/lesson.webm" });
    const body = h("textarea", {});
    const passMark = h("input", { type: "number", min: "0", max: "1", step: "0.05", value: "0.7" });
    const prompt = h("input", { maxlength: "4000" });
    const choices = h("textarea", {});
    const answer = h("input", { type: "number", min: "1", value: "1" });
    /** @type {Record<string, HTMLElement>} */
    const byKind = {
      video: h(
        "div",
        { class: "inline-fields" },
        field(`${key}-duration`, "Duration (seconds)", duration, "duration_s"),
        field(`${key}-url`, "Video URL", url, "video_url"),
      ),
      reading: field(`${key}-body`, "Text (Markdown)", body, "body"),
      quiz: h(
        "div",
        {},
        field(`${key}-pass`, "Pass mark (0–1)", passMark, "pass_mark"),
        field(`${key}-prompt`, "First question", prompt, "questions"),
        field(`${key}-choices`, "Choices, one per line", choices),
        field(`${key}-answer`, "Number of the correct choice", answer),
      ),
      qbank: h(
        "p",
        { class: "meta" },
        "A Q-bank lesson lets learners practise with the course's question bank.",
      ),
    };
    const extra = h("div", {});
    const showKind = () => extra.replaceChildren(byKind[kind.value]);
    kind.addEventListener("change", showKind);
    showKind();
    return h(
      "form",
      {
        class: "stack",
        style: "border-top:1px solid var(--line); padding-top:.75rem",
        onsubmit: (/** @type {FormSubmit} */ event) => {
          event.preventDefault();
          /** @type {ApiRecord} */
          const lesson = { title: title.value, kind: kind.value };
          if (kind.value === "video")
            Object.assign(lesson, { duration_s: Number(duration.value), video_url: url.value });
          if (kind.value === "reading") lesson.body = body.value;
          if (kind.value === "quiz")
            Object.assign(lesson, {
              pass_mark: Number(passMark.value),
              questions: [question(prompt.value, choices.value, answer.value)],
            });
          submitted(
            event.target,
            "POST",
            `/api/v1/chapters/${chapter.id}/lessons`,
            lesson,
            "Lesson added.",
            showKind,
          );
        },
      },
      h("h4", { style: "margin:0" }, `Add a lesson to ${chapter.title}`),
      h(
        "div",
        { class: "inline-fields" },
        field(`${key}-title`, "Lesson title", title, "title"),
        field(`${key}-kind`, "Kind", kind, "kind"),
      ),
      extra,
      h("button", { type: "submit", class: "secondary" }, "Add lesson"),
    );
  }

  // Live re-renders reuse the nodes of unchanged lessons and the add-lesson forms, so that
  // what an author is typing survives an update that arrives meanwhile.
  /** @type {Map<number, { key: string, node: HTMLLIElement }>} */
  const lessonNodes = new Map();
  /** @type {Map<number, HTMLFormElement>} */
  const addForms = new Map();

  /**
   * @param {ApiRecord} chapter
   * @param {ApiRecord} lesson
   * @param {number} index
   */
  function lessonNode(chapter, lesson, index) {
    const siblings = chapter.lessons.map((/** @type {ApiRecord} */ l) => l.id);
    const key = JSON.stringify([lesson, chapter.id, siblings]);
    const cached = lessonNodes.get(lesson.id);
    if (cached && cached.key === key) return cached.node;
    const node = lessonEditor(lesson, chapter, index);
    lessonNodes.set(lesson.id, { key, node });
    return node;
  }

  /** @param {ApiRecord} chapter */
  function addFormFor(chapter) {
    if (!addForms.has(chapter.id)) addForms.set(chapter.id, addLessonForm(chapter));
    return addForms.get(chapter.id);
  }

  /**
   * A closed <details> holding a form that PATCHes `path` with `values()` when submitted.
   * @param {string} summary
   * @param {string} path
   * @param {() => ApiRecord} values
   * @param {string} message what is announced once saved
   * @param {Child} controls
   * @param {string} submit the button's label
   */
  function editInPlace(summary, path, values, message, controls, submit) {
    return h(
      "details",
      {},
      h("summary", {}, summary),
      h(
        "form",
        {
          class: "stack",
          onsubmit: (/** @type {SubmitEvent} */ event) => {
            event.preventDefault();
            send("PATCH", path, values(), message);
          },
        },
        controls,
        h("button", { type: "submit", class: "secondary" }, submit),
      ),
    );
  }

  /** @param {ApiRecord} chapter */
  function renameChapterForm(chapter) {
    const title = h("input", { required: true, maxlength: "200", value: chapter.title });
    return editInPlace(
      `Rename ${chapter.title}`,
      `/api/v1/chapters/${chapter.id}`,
      () => ({ title: title.value }),
      "Chapter renamed.",
      field(`c${chapter.id}-rename`, "Chapter title", title, "title"),
      "Rename",
    );
  }

  let shownOutline = "";
  /** @param {ApiRecord} course */
  function renderOutline(course) {
    const key = JSON.stringify(course.chapters);
    if (key === shownOutline) return;
    shownOutline = key;
    replace(
      "editor-outline",
      course.chapters.length
        ? course.chapters.map((/** @type {ApiRecord} */ chapter, /** @type {number} */ index) =>
            h(
              "article",
              { class: "card stack", "data-chapter-id": chapter.id },
              h(
                "div",
                { class: "row", style: "justify-content: space-between" },
                h("h3", { style: "margin:0" }, `${index + 1}. ${chapter.title}`),
                h(
                  "div",
                  { class: "row" },
                  moveButtons(
                    course.chapters.map((/** @type {ApiRecord} */ c) => c.id),
                    index,
                    `chapter ${chapter.title}`,
                    `/api/v1/courses/${courseId}/chapters/order`,
                    "chapter_ids",
                  ),
                ),
                renameChapterForm(chapter),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "aria-label": `Delete chapter ${chapter.title}`,
                    onclick: async () => {
                      const question = `Delete the chapter ${chapter.title} and its ${chapter.lessons.length} lessons?`;
                      if (await confirmAction(question, "Delete chapter"))
                        send(
                          "DELETE",
                          `/api/v1/chapters/${chapter.id}`,
                          undefined,
                          "Chapter deleted.",
                        );
                    },
                  },
                  "Delete chapter",
                ),
              ),
              chapter.lessons.length
                ? h(
                    "ol",
                    { class: "stack", style: "list-style:none; padding:0" },
                    chapter.lessons.map(
                      (/** @type {ApiRecord} */ lesson, /** @type {number} */ i) =>
                        lessonNode(chapter, lesson, i),
                    ),
                  )
                : h("p", { class: "empty" }, "No lessons."),
              addFormFor(chapter),
            ),
          )
        : h("p", { class: "empty" }, "This course has no chapters yet."),
    );
  }

  async function renderQbank() {
    /** @type {ApiRecord[]} */
    const bank = await api("GET", `/api/v1/courses/${courseId}/qbank`);
    replace(
      "editor-qbank",
      bank.length
        ? h(
            "ol",
            { class: "stack" },
            bank.map((q) =>
              h(
                "li",
                { "data-question-id": q.id },
                q.prompt,
                q.topic ? h("span", { class: "badge", style: "margin-left:.4rem" }, q.topic) : null,
                h("div", { class: "meta" }, `Correct: ${q.choices[q.answer]}`),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "aria-label": `Delete question ${q.prompt}`,
                    onclick: () =>
                      send(
                        "DELETE",
                        `/api/v1/qbank-questions/${q.id}`,
                        undefined,
                        "Question deleted.",
                      ),
                  },
                  "Delete",
                ),
              ),
            ),
          )
        : h("p", { class: "empty" }, "No Q-bank questions."),
    );
  }

  let loaded = false;
  async function render() {
    const course = await api("GET", `/api/v1/courses/${courseId}`);
    if (!loaded) {
      fillSettings(course);
      // The settings take input once they show the course, so nothing typed is overwritten.
      /** @type {HTMLFieldSetElement} */ (document.getElementById("settings-fields")).disabled =
        false;
      loaded = true;
    }
    showImage(course);
    renderOutline(course);
    await renderQbank();
  }
  const refresh = refresher(render);

  document.addEventListener("DOMContentLoaded", () => {
    form().addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = form();
      const result = /** @type {HTMLElement} */ (document.getElementById("settings-result"));
      const body = {
        title: f.elements.title.value,
        description: f.elements.description.value,
        status: f.elements.status.value,
        access: f.elements.access.value,
        price_cents: Number(f.elements.price_cents.value || 0),
        currency: f.elements.currency.value,
        qbank_pass_mark: Number(f.elements.qbank_pass_mark.value || 0),
        qbank_required: f.elements.qbank_required.checked,
        enrollment_opens_at: isoOrNull(f.elements.enrollment_opens_at.value),
        enrollment_closes_at: isoOrNull(f.elements.enrollment_closes_at.value),
        access_days: numberOrNull(f.elements.access_days.value),
        seat_limit: numberOrNull(f.elements.seat_limit.value),
        waitlist: f.elements.waitlist.checked,
      };
      try {
        const course = await api("PATCH", `/api/v1/courses/${courseId}`, body);
        fillSettings(course);
        result.textContent = "Saved.";
        result.className = "";
        announce("Course saved.");
      } catch (error) {
        result.textContent = Lectern.fieldErrors(f, error) ? "" : error.message;
        result.className = "error";
      }
    });
    const imageForm = /** @type {HTMLFormElement} */ (document.getElementById("course-image-form"));
    const imageFile = /** @type {HTMLInputElement} */ (document.getElementById("c-image"));
    imageForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (imageFile.files?.[0]) sendImage(imageFile.files[0]).catch(report);
    });
    document.getElementById("remove-image")?.addEventListener("click", async () => {
      if (await confirmAction("Remove the course's image?", "Remove image"))
        sendImage(null).catch(report);
    });
    const chapterForm = /** @type {NamedForm} */ (document.getElementById("add-chapter"));
    chapterForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      await submitted(
        chapterForm,
        "POST",
        `/api/v1/courses/${courseId}/chapters`,
        { title: chapterForm.elements.title.value },
        "Chapter added.",
      );
    });
    const qbankForm = /** @type {NamedForm} */ (document.getElementById("add-qbank"));
    qbankForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const e = qbankForm.elements;
      await submitted(
        qbankForm,
        "POST",
        `/api/v1/courses/${courseId}/qbank`,
        {
          questions: [
            question(e.prompt.value, e.choices.value, e.answer.value, { topic: e.topic.value }),
          ],
        },
        "Question added.",
      );
    });
    onEvent(["course.", "content.", "qbank."], () => refresh());
    refresh();
  });
})();
