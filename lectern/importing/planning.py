"""The whole import planned, in the order its decisions depend on each other."""

from collections.abc import Callable
from datetime import datetime

from lectern.certificates.service import new_codes
from lectern.importing import facts_plan, rules
from lectern.importing.learning_plan import (
    NONE_REQUIRED,
    LearningPlanner,
    Required,
    progress_of,
    status_before_facts,
)
from lectern.importing.people import plan_people
from lectern.importing.plan import (
    Known,
    Legacy,
    Plan,
    Planner,
    Ref,
    Row,
    cycle_collection_paused,
)
from lectern.models.enums import EnrollmentStatus

NOTES = [
    "The legacy platform kept seconds watched, not where: each video's watched seconds became "
    "one interval from 0, and the 90 % rule decided completion, not the client's flag.",
    "Legacy progress numbers and course counters were not imported: Lectern derived them.",
]
# The tables whose rows are final once the people and the catalogue are planned: nothing the
# learning stages decide changes them.
PEOPLE_AND_CATALOGUE = ("institutions", "users", "student_profiles", "courses", "chapters",
                        "lessons", "qbank_questions")  # fmt: skip

# The tables final once every lesson fact is planned: the Q-bank's tests are none, so the
# enrollments' progress, status and certificates no longer change.
ENROLLMENTS = ("enrollments", "certificates")

# Told, from the planning thread, that the plan's rows of these tables are final.
TablesFinal = Callable[[Plan, tuple[str, ...]], None]


def _nothing_to_tell(plan: Plan, tables: tuple[str, ...]) -> None:
    return None


def plan_import(
    legacy: Legacy, known: Known, now: datetime, tables_final: TablesFinal = _nothing_to_tell
) -> Plan:
    """Every legacy row decided: the rows to write, and the report that accounts for each.
    `tables_final` hears of each group of tables whose rows no later stage changes, so that
    they can be written while the rest is planned."""
    with cycle_collection_paused():
        return _planned(legacy, known, now, tables_final)


def _planned(legacy: Legacy, known: Known, now: datetime, tables_final: TablesFinal) -> Plan:
    planner = Planner(legacy, known, now)
    planner.plan.known_names = known.institution_names
    planner.institutions()
    planner.courses()
    planner.lessons()
    planner.qbank_questions()
    plan_people(planner)
    tables_final(planner.plan, PEOPLE_AND_CATALOGUE)
    learning = LearningPlanner(planner)
    learning.enrollment_tables()
    learning.payments()
    tables_final(planner.plan, ("payments",))
    requests = learning.approved_requests()
    learning.default_courses()
    # Every enrollment the import makes is known from here; the facts decide only how far.
    planner.plan.keys["enrollments"] = learning.new_enrollments()
    learning.requests(requests)
    tables_final(planner.plan, ("access_requests",))
    facts_plan.videos(learning)
    facts_plan.quizzes(learning)
    tables_final(planner.plan, ("quiz_attempts",))
    # The enrollments before their lesson progress: the server takes them, with the tallies'
    # recount after them, while the rest is planned, and the largest table's COPY data, the
    # most interpreter time of any, is made last, when planning no longer needs it.
    _enrollments(learning)
    tables_final(planner.plan, ENROLLMENTS)
    _lesson_progress(learning)
    tables_final(planner.plan, ("lesson_progress",))
    facts_plan.qbank(learning)
    tables_final(planner.plan, ("qbank_tests", "qbank_test_questions"))
    planner.report.add(planner.tally)
    planner.report.notes.extend(NOTES)
    return planner.plan


def _lesson_progress(lp: LearningPlanner) -> None:
    """Each enrollment's lesson_progress rows, made whole once every lesson fact is in (the
    Q-bank's tests are none): a new enrollment's dated by its creation where no fact is."""
    plan, now = lp.p.plan, lp.p.now
    for state in lp.pairs.values():
        if state.is_new:
            _facts(plan.rows["lesson_progress"], state.ref, state.facts, state.created_at or now)
        else:
            _facts(plan.facts_of_known, state.ref, state.facts, now)


def _enrollments(lp: LearningPlanner) -> None:
    """The new enrollments' rows with progress, status and certificate from their facts."""
    plan, now, user_name = lp.p.plan, lp.p.now, lp.p.user_name
    decided, created = lp.tally.decisions, lp.tally.created
    enrollments, codes = plan.rows["enrollments"], new_codes()
    required = {
        course: Required.of(lesson.ref for lesson in lessons if lesson.required)
        for course, lessons in lp.p.lessons_of.items()
    }
    for (user, course_ref), state in lp.pairs.items():
        if not state.is_new:
            continue
        course = state.course
        institution = course.institution
        progress, complete, completed_at = progress_of(
            state, required.get(course_ref, NONE_REQUIRED)
        )
        status = status_before_facts(state)
        if status == EnrollmentStatus.ACTIVE and complete:
            status = EnrollmentStatus.COMPLETED
            decided["enrollments_completed_by_facts", institution] += 1
        if state.legacy_completed and status != EnrollmentStatus.COMPLETED:
            decided["legacy_completions_not_met", institution] += 1
        for legacy_progress in state.legacy_progress:
            if rules.differs(legacy_progress, progress):
                decided["progress_differs_from_legacy", institution] += 1
                break
        if status == EnrollmentStatus.CANCELLED:
            decided["enrollments_cancelled", institution] += 1
        created_at = state.created_at or now
        completed_at = completed_at or created_at if status == EnrollmentStatus.COMPLETED else None
        enrollments.append({
            "key": state.ref, "user_id": user, "course_id": course_ref, "status": status,
            "source": state.source, "progress": progress, "completed_at": completed_at,
            "created_at": created_at, "updated_at": now,
        })  # fmt: skip
        created["enrollments", institution] += 1
        if status == EnrollmentStatus.COMPLETED:
            plan.rows["certificates"].append({
                "enrollment_id": state.ref, "code": next(codes), "user_id": user,
                "course_id": course_ref, "learner_name": user_name.get(user, ""),
                "course_title": course.title, "issued_at": completed_at,
            })  # fmt: skip
            created["certificates", institution] += 1


def _facts(rows: list[Row], enrollment: Ref | None, facts: dict[Ref, Row], at: datetime) -> None:
    """The enrollment's lesson_progress rows, made whole."""
    for row in facts.values():
        row["enrollment_id"] = enrollment
        row["updated_at"] = row["updated_at"] or row["completed_at"] or at
    rows.extend(facts.values())
