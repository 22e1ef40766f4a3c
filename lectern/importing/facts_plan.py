"""Learning facts planned: videos watched, quiz attempts re-scored, Q-bank tests and answers."""

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from lectern.importing import legacy_rows, rules
from lectern.importing.learning_plan import Enrolled, LearningPlanner
from lectern.importing.plan import LessonInfo, Plan, Ref, Row, _order, row_time
from lectern.models.enums import LessonKind, QbankTestStatus
from lectern.progress.rules import qbank_score

# A fact row's order (time, then id), and the row with the enrollment and lesson it belongs to,
# or why it is skipped.
Matched = tuple[datetime, str, tuple[Any, Enrolled, LessonInfo] | str]


def _matched(
    lp: LearningPlanner, table: str, kind: LessonKind, time: Callable[[Any], datetime]
) -> list[Matched]:
    """Each of the table's rows matched to its enrollment and lesson of `kind`, in the order
    the rows were read, in which their memory lies together (in time order each lookup waits on
    memory). The facts stages make no enrollment, so no match depends on that order."""
    lessons, people, pairs = lp.p.lesson, lp.p.person, lp.pairs
    known = lp.p.known.linked(table)
    not_of_kind = f"not_a_{kind}"
    matched: list[Matched] = []
    for row in lp.p.legacy[table]:
        lesson = lessons.get(row.chapter_id or "")
        user = people.get(row.user_id or "")
        found: tuple[Any, Enrolled, LessonInfo] | str
        if lesson is None or user is None:
            found = "lesson_missing" if lesson is None else "user_missing"
        elif lesson.kind != kind:
            found = not_of_kind
        elif (state := pairs.get((user, lesson.course))) is None or state.ref is None:
            found = "not_enrolled"
        elif row.id in known:
            found = "already_imported"
        else:
            found = (row, state, lesson)
        matched.append((time(row), row.id, found))
    return matched


Record = TypeVar("Record", bound=tuple[Any, ...])


def _by_time(records: list[Record]) -> list[Record]:
    """Records that start with (time, id) sorted by both, as two stable sorts: a third of the
    cost of one by the pair when many share a time, as tuples then compare their ids too."""
    records.sort(key=itemgetter(1))
    records.sort(key=itemgetter(0))
    return records


def _lesson_facts(
    lp: LearningPlanner, table: str, kind: LessonKind, time: Callable[[Any], datetime]
) -> Iterator[tuple[Any, Enrolled, LessonInfo]]:
    """The table's rows that belong to an enrollment and a lesson of `kind` by time then id,
    each with both; the others are reported skipped."""
    counted = lp.tally.rows
    for _time, _id, found in _by_time(_matched(lp, table, kind, time)):
        if isinstance(found, str):
            counted[table, "skipped", found] += 1
        else:
            yield found


def videos(lp: LearningPlanner) -> None:
    counted, decided = lp.tally.rows, lp.tally.decisions
    plan, links = lp.p.plan, lp.p.plan.links
    seen: set[tuple[Ref, Ref]] = set()
    matched = _lesson_facts(lp, "video_progress", LessonKind.VIDEO, attrgetter("updated_at"))
    for row, state, lesson in matched:
        enrollment = state.ref
        assert enrollment is not None
        duration = lesson.duration_s
        watched = rules.watched_interval(float(row.watched_seconds or 0), duration)
        seconds = watched[0][1] if watched else 0.0
        complete = rules.video_watched(seconds, duration)
        institution = state.course.institution
        if bool(row.completed) != complete and duration > 0:
            decided["video_completion_flags_overruled", institution] += 1
        facts = state.facts_of(lesson.ref)
        if seconds >= facts["watched_s"]:
            facts["watched_s"], facts["watched"] = seconds, watched
        updated_at = row.updated_at
        if complete:
            facts["completed_at"] = rules.earliest(facts["completed_at"], updated_at)
        facts["updated_at"] = updated_at
        if (pair := (enrollment, lesson.ref)) in seen:
            counted["video_progress", "merged", "same_learner_and_video"] += 1
        else:
            seen.add(pair)
            counted["video_progress", "imported", None] += 1
        decided["videos_watched_from_total_seconds", institution] += 1
        links["video_progress"].add(row.id, enrollment)
        _touch(plan, enrollment)


def quizzes(lp: LearningPlanner) -> None:
    counted, decided = lp.tally.rows, lp.tally.decisions
    plan, links = lp.p.plan, lp.p.plan.links
    attempts = plan.rows["quiz_attempts"]
    # Attempts whose answers have the same JSON text share one list (source.SharedJsonLoader),
    # which the legacy rows keep alive: each list is scored once per lesson.
    scored: dict[tuple[Ref, int], tuple[float, bool]] = {}
    for row, state, lesson in _lesson_facts(lp, "quiz_attempts", LessonKind.QUIZ, row_time):
        answers = row.answers if isinstance(row.answers, list) else None
        if answers is None or not lesson.answers:
            counted["quiz_attempts", "skipped", "answers_unreadable"] += 1
            continue
        if (result := scored.get((lesson.ref, id(answers)))) is None:
            score = rules.rescore_quiz(lesson.answers, answers)
            result = (score, rules.quiz_passed(score, lesson.pass_mark))
            scored[lesson.ref, id(answers)] = result
        score, passed = result
        if rules.differs(row.score, 100 * score) or bool(row.passed) != passed:
            decided["quiz_scores_corrected", state.course.institution] += 1
        facts = state.facts_of(lesson.ref)
        facts["best_score"] = max(score, facts["best_score"] or 0.0)
        created_at = row.created_at
        if passed:
            facts["completed_at"] = rules.earliest(facts["completed_at"], created_at)
        facts["updated_at"] = created_at
        attempts.append({
            "key": row.id, "enrollment_id": state.ref, "lesson_id": lesson.ref,
            "answers": list(answers), "score": score, "passed": passed,
            "created_at": created_at,
        })  # fmt: skip
        counted["quiz_attempts", "imported", None] += 1
        links["quiz_attempts"].add(row.id, row.id)
        _touch(plan, state.ref)


def qbank(lp: LearningPlanner) -> None:
    counted, decided = lp.tally.rows, lp.tally.decisions
    answers: dict[str, list[legacy_rows.QbankQuestionAttempt]] = defaultdict(list)
    for row in lp.p.legacy["qbank_question_attempts"]:
        answers[row.test_id or ""].append(row)
    for _time, _id, row, own, found in _by_time(_matched_tests(lp, answers)):
        if isinstance(found, str):
            counted["qbank_tests", "skipped", found] += 1
            if own:
                counted["qbank_question_attempts", "skipped", "test_skipped"] += len(own)
        else:
            _test(lp, row, own, *found)
    for rows in answers.values():
        if rows:
            counted["qbank_question_attempts", "skipped", "test_missing"] += len(rows)
    known = lp.p.known.linked("qbank_questions")
    for row in lp.p.legacy["qbank_question_statistics"]:
        question = lp.p.question.get(row.question_id or "")
        if question is None:
            counted["qbank_question_statistics", "skipped", "question_missing"] += 1
        elif row.question_id in known:
            counted["qbank_question_statistics", "skipped", "already_imported"] += 1
        else:
            counted["qbank_question_statistics", "merged", "recomputed_from_answers"] += 1
            institution = lp.p.course_by_ref[question.course].institution
            decided["qbank_statistics_recomputed", institution] += 1


# A Q-bank test with its order (time, then id), its answers, and its enrollment and status, or
# why it is skipped.
MatchedTest = tuple[
    datetime,
    str,
    legacy_rows.QbankTest,
    list[legacy_rows.QbankQuestionAttempt],
    tuple[Enrolled, QbankTestStatus] | str,
]


def _matched_tests(
    lp: LearningPlanner, answers: dict[str, list[legacy_rows.QbankQuestionAttempt]]
) -> list[MatchedTest]:
    """Each Q-bank test with its answers (taken from `answers`) matched to its enrollment, in
    the order the tests were read, as `_matched` does for lessons."""
    people, courses, pairs = lp.p.person, lp.p.course, lp.pairs
    known = lp.p.known.linked("qbank_tests")
    matched: list[MatchedTest] = []
    for row in lp.p.legacy["qbank_tests"]:
        own = answers.pop(row.id, [])
        user = people.get(row.user_id or "")
        course = courses.get(row.course_id or "")
        status = rules.parse_test_status(row.status)
        found: tuple[Enrolled, QbankTestStatus] | str
        if user is None or course is None:
            found = "user_missing" if user is None else "course_missing"
        elif (state := pairs.get((user, course.ref))) is None or state.ref is None:
            found = "not_enrolled"
        elif status is None:
            found = "unknown_status"
        elif row.id in known:
            found = "already_imported"
        else:
            found = (state, status)
        matched.append((row_time(row), row.id, row, own, found))
    return matched


def _test(
    lp: LearningPlanner,
    row: legacy_rows.QbankTest,
    rows: list[legacy_rows.QbankQuestionAttempt],
    state: Enrolled,
    status: QbankTestStatus,
) -> None:
    plan, counted = lp.p.plan, lp.tally.rows
    questions, links = lp.p.question, plan.links
    course = state.course
    test_id = row.id
    chosen: dict[Ref, Row] = {}
    position = 0
    for answer in sorted(rows, key=_order) if len(rows) > 1 else rows:
        question = questions.get(answer.question_id or "")
        if question is None or question.course != course.ref:
            counted["qbank_question_attempts", "skipped", "question_missing"] += 1
            continue
        if question.ref in chosen:
            counted["qbank_question_attempts", "merged", "same_question_in_test"] += 1
            continue
        choice = answer.selected_index
        if not (isinstance(choice, int) and 0 <= choice < question.choices):
            choice = None
        position += 1
        chosen[question.ref] = {
            "test_id": test_id, "question_id": question.ref, "position": position,
            "choice": choice, "is_correct": None if choice is None else choice == question.answer,
        }  # fmt: skip
        plan.questions.add(question.ref)
        counted["qbank_question_attempts", "imported", None] += 1
        links["qbank_question_attempts"].add(answer.id, test_id)
    finished: datetime | None = None
    score: float | None = None
    if status == QbankTestStatus.COMPLETED:
        finished = row.completed_at or row.created_at
        correct = sum(1 for a in chosen.values() if a["is_correct"])
        score = qbank_score(correct, len(chosen))
        if rules.differs(row.score, 100 * score):
            lp.tally.decisions["qbank_scores_corrected", course.institution] += 1
    plan.rows["qbank_tests"].append({
        "key": test_id, "enrollment_id": state.ref, "status": status, "topic": None,
        "score": score, "created_at": row.created_at, "finished_at": finished,
    })  # fmt: skip
    plan.rows["qbank_test_questions"].extend(chosen.values())
    counted["qbank_tests", "imported", None] += 1
    links["qbank_tests"].add(test_id, test_id)
    _touch(plan, state.ref)


def _touch(plan: Plan, enrollment: Ref | None) -> None:
    """An enrollment Lectern already had gets new facts: its own recompute runs on it."""
    if isinstance(enrollment, int):
        plan.recompute.add(enrollment)
