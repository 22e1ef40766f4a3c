// The admin course editor: settings, outline with quiz questions, and the Q-bank.
"use strict";

(() => {
  const { api, h, onEvent, refresher, announce, replace } = Lectern;
  const courseId = Number(document.body.dataset.courseId);
  const form = () => document.getElementById("course-settings");

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
    document.getElementById("editor-title").textContent = "Edit: " + course.title;
  }

  function lessonDetails(lesson) {
    const facts = [lesson.kind, lesson.required ? "required" : "optional", "weight " + lesson.weight];
    if (lesson.kind === "video") facts.push(Math.round(lesson.duration_s) + " s");
    if (lesson.kind === "quiz") facts.push("pass mark " + Math.round((lesson.pass_mark || 0) * 100) + " %");
    return facts.join(" · ");
  }

  function questionList(questions) {
    return h("ol", {}, questions.map((q) => h("li", {}, q.prompt,
      h("ul", {}, q.choices.map((choice, i) => h("li", { class: i === q.answer ? "badge good" : "" }, choice, i === q.answer ? " (correct)" : ""))))));
  }

  function renderOutline(course) {
    replace("editor-outline", course.chapters.length ? course.chapters.map((chapter) =>
      h("article", { class: "card", "data-chapter-id": chapter.id },
        h("h3", {}, chapter.position + 1 + ". " + chapter.title),
        chapter.lessons.length ? h("ol", { class: "stack" }, chapter.lessons.map((lesson) =>
          h("li", { "data-lesson-id": lesson.id },
            h("strong", {}, lesson.title), h("div", { class: "meta" }, lessonDetails(lesson)),
            lesson.kind === "quiz" && lesson.questions ? h("details", {}, h("summary", {}, lesson.questions.length + " questions"), questionList(lesson.questions)) : null))) :
          h("p", { class: "empty" }, "No lessons."))) :
      h("p", { class: "empty" }, "This course has no chapters yet."));
  }

  async function renderQbank() {
    const stats = await api("GET", "/api/v1/admin/courses/" + courseId + "/analytics");
    replace("editor-qbank", stats.qbank_questions.length ? h("p", {},
      stats.qbank_questions.length + " questions in the bank. ",
      h("a", { href: "/admin/courses/" + courseId + "/analytics" }, "See how learners answer them"), ".") :
      h("p", { class: "empty" }, "No Q-bank questions."));
  }

  let loaded = false;
  async function render() {
    const course = await api("GET", "/api/v1/courses/" + courseId);
    if (!loaded) { fillSettings(course); loaded = true; }
    renderOutline(course);
    await renderQbank();
  }
  const refresh = refresher(render);

  document.addEventListener("DOMContentLoaded", () => {
    form().addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = form();
      const result = document.getElementById("settings-result");
      const body = {
        title: f.elements.title.value,
        description: f.elements.description.value,
        status: f.elements.status.value,
        access: f.elements.access.value,
        price_cents: Number(f.elements.price_cents.value || 0),
        currency: f.elements.currency.value,
        qbank_pass_mark: Number(f.elements.qbank_pass_mark.value || 0),
        qbank_required: f.elements.qbank_required.checked,
      };
      try {
        const course = await api("PATCH", "/api/v1/courses/" + courseId, body);
        fillSettings(course);
        result.textContent = "Saved.";
        result.className = "";
        announce("Course saved.");
      } catch (error) {
        result.textContent = error.message;
        result.className = "error";
      }
    });
    onEvent(["course.", "lesson.", "chapter.", "qbank."], () => refresh());
    refresh();
  });
})();
