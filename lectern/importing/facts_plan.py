"""Learning facts planned: videos watched, quiz attempts re-scored, Q-bank tests and answers."""

from collections import defaultdict
from datetime import datetime
from operator import itemgetter

from lectern.importing import rules
from lectern.importing.learning_plan import Enrolled, LearningPlanner
from lectern.importing.plan import LessonInfo, Ref, Row, _order
from lectern.models.enums import LessonKind, QbankTestStatus
from lectern.progress.rules import qbank_score


def _lesson_fact(
    lp: LearningPlanner, table: str, row: Row, kind: LessonKind
) -> tuple[Enrolled, LessonInfo] | None:
    """The enrollment and lesson a fact row belongs to, or None (reported)."""
    lesson = lp.p.lesson.get(row["chapter_id"] or "")
    user = lp.p.person.get(row["user_id"] or "")
    if lesson is None or user is None:
        lp.report.row(table, "skipped", "lesson_missing" if lesson is None else "user_missing")
        return None
    if lesson.kind != kind:
        lp.report.row(table, "skipped", f"not_a_{kind}")
        return None
    state = lp.pairs.get((user, lesson.course))
    if state is None or state.ref is None:
        lp.report.row(table, "skipped", "not_enrolled")
        return None
    if lp.p.known_id(table, row["id"]) is not None:
        lp.report.row(table, "skipped", "already_imported")
        return None
    return state, lesson


def _touch(lp: LearningPlanner, state: Enrolled) -> None:
    if isinstance(state.ref, int):
        lp.p.plan.recompute.add(state.ref)


def videos(lp: LearningPlanner) -> None:
    seen: set[tuple[Ref, Ref]] = set()
    # By time then id, as two stable sorts: a third of the cost of one by the pair, as many
    # rows share a time and tuples then compare their ids too.
    rows = sorted(lp.p.legacy["video_progress"], key=itemgetter("id"))
    rows.sort(key=itemgetter("updated_at"))
    for row in rows:
        found = _lesson_fact(lp, "video_progress", row, LessonKind.VIDEO)
        if found is None:
            continue
        state, lesson = found
        assert state.ref is not None
        watched = rules.watched_interval(float(row["watched_seconds"] or 0), lesson.duration_s)
        seconds = watched[0][1] if watched else 0.0
        complete = rules.video_watched(seconds, lesson.duration_s)
        institution = state.course.institution
        if bool(row["completed"]) != complete and lesson.duration_s > 0:
            lp.report.decide("video_completion_flags_overruled", institution)
        facts = state.facts_of(lesson.ref)
        if seconds >= facts.watched_s:
            facts.watched_s, facts.watched = seconds, watched
        if complete:
            facts.completed_at = rules.earliest(facts.completed_at, row["updated_at"])
        facts.updated_at = row["updated_at"]
        first = (state.ref, lesson.ref) not in seen
        seen.add((state.ref, lesson.ref))
        lp.report.row(
            "video_progress",
            "imported" if first else "merged",
            None if first else "same_learner_and_video",
        )
        lp.report.decide("videos_watched_from_total_seconds", institution)
        lp.p.link("video_progress", row["id"], "enrollments", state.ref)
        _touch(lp, state)


def quizzes(lp: LearningPlanner) -> None:
    for row in sorted(lp.p.legacy["quiz_attempts"], key=_order):
        found = _lesson_fact(lp, "quiz_attempts", row, LessonKind.QUIZ)
        if found is None:
            continue
        state, lesson = found
        answers = row["answers"] if isinstance(row["answers"], list) else None
        if answers is None or not lesson.answers:
            lp.report.row("quiz_attempts", "skipped", "answers_unreadable")
            continue
        score = rules.rescore_quiz(lesson.answers, answers)
        passed = rules.quiz_passed(score, lesson.pass_mark)
        institution = state.course.institution
        if rules.differs(row["score"], 100 * score) or bool(row["passed"]) != passed:
            lp.report.decide("quiz_scores_corrected", institution)
        facts = state.facts_of(lesson.ref)
        facts.best_score = max(score, facts.best_score or 0.0)
        if passed:
            facts.completed_at = rules.earliest(facts.completed_at, row["created_at"])
        facts.updated_at = row["created_at"]
        lp.p.add("quiz_attempts", {
            "key": row["id"], "enrollment_id": state.ref, "lesson_id": lesson.ref,
            "answers": list(answers), "score": score, "passed": passed,
            "created_at": row["created_at"],
        })  # fmt: skip
        lp.report.row("quiz_attempts", "imported")
        lp.p.link("quiz_attempts", row["id"], "quiz_attempts", row["id"])
        _touch(lp, state)


def qbank(lp: LearningPlanner) -> None:
    answers: dict[str, list[Row]] = defaultdict(list)
    for row in lp.p.legacy["qbank_question_attempts"]:
        answers[row["test_id"] or ""].append(row)
    for row in sorted(lp.p.legacy["qbank_tests"], key=_order):
        own = answers.pop(row["id"], [])
        pair = lp.pair_of("qbank_tests", row["user_id"], row["course_id"])
        state = lp.pairs.get(pair) if pair else None
        status = rules.parse_test_status(row["status"])
        reason = None
        if pair is not None and (state is None or state.ref is None):
            reason = "not_enrolled"
        elif pair is not None and status is None:
            reason = "unknown_status"
        elif pair is not None and lp.p.known_id("qbank_tests", row["id"]) is not None:
            reason = "already_imported"
        if pair is not None and reason:
            lp.report.row("qbank_tests", "skipped", reason)
        if pair is None or reason or state is None or status is None:
            for _ in own:
                lp.report.row("qbank_question_attempts", "skipped", "test_skipped")
            continue
        _test(lp, row, own, state, status)
    for rows in answers.values():
        for _ in rows:
            lp.report.row("qbank_question_attempts", "skipped", "test_missing")
    for row in lp.p.legacy["qbank_question_statistics"]:
        question = lp.p.question.get(row["question_id"] or "")
        if question is None:
            lp.report.row("qbank_question_statistics", "skipped", "question_missing")
        elif lp.p.known_id("qbank_questions", row["question_id"]) is not None:
            lp.report.row("qbank_question_statistics", "skipped", "already_imported")
        else:
            lp.report.row("qbank_question_statistics", "merged", "recomputed_from_answers")
            lp.report.decide(
                "qbank_statistics_recomputed", lp.p.course_by_ref[question.course].institution
            )


def _test(
    lp: LearningPlanner, row: Row, rows: list[Row], state: Enrolled, status: QbankTestStatus
) -> None:
    institution = state.course.institution
    chosen: dict[Ref, Row] = {}
    position = 0
    for answer in sorted(rows, key=_order):
        question = lp.p.question.get(answer["question_id"] or "")
        if question is None or question.course != state.course.ref:
            lp.report.row("qbank_question_attempts", "skipped", "question_missing")
            continue
        if question.ref in chosen:
            lp.report.row("qbank_question_attempts", "merged", "same_question_in_test")
            continue
        choice = answer["selected_index"]
        if not (isinstance(choice, int) and 0 <= choice < question.choices):
            choice = None
        position += 1
        chosen[question.ref] = {
            "test_id": row["id"], "question_id": question.ref, "position": position,
            "choice": choice, "is_correct": None if choice is None else choice == question.answer,
        }  # fmt: skip
        lp.p.plan.questions.add(question.ref)
        lp.report.row("qbank_question_attempts", "imported")
        lp.p.link("qbank_question_attempts", answer["id"], "qbank_tests", row["id"])
    finished: datetime | None = None
    score: float | None = None
    if status == QbankTestStatus.COMPLETED:
        finished = row["completed_at"] or row["created_at"]
        correct = sum(1 for a in chosen.values() if a["is_correct"])
        score = qbank_score(correct, len(chosen))
        if rules.differs(row["score"], 100 * score):
            lp.report.decide("qbank_scores_corrected", institution)
    lp.p.add("qbank_tests", {
        "key": row["id"], "enrollment_id": state.ref, "status": status, "topic": None,
        "score": score, "created_at": row["created_at"], "finished_at": finished,
    })  # fmt: skip
    lp.p.plan.rows["qbank_test_questions"].extend(chosen.values())
    lp.report.row("qbank_tests", "imported")
    lp.p.link("qbank_tests", row["id"], "qbank_tests", row["id"])
    _touch(lp, state)
