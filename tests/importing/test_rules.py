"""One rule of the import per test, on a small hand-written legacy data set showing that drift
alone; planned without a database."""

from typing import Any

from lectern.importing.plan import Known, KnownUser, Plan
from lectern.importing.planning import plan_import
from lectern.importing.rules import NO_PASSWORD
from tests.importing.legacy_data import LEGACY_HASH, LegacyData, at

NOW = at(100)


def _plan(data: LegacyData, known: Known | None = None) -> Plan:
    plan = plan_import(data.tables, known or Known(), NOW)
    assert plan.report.sums_hold()
    return plan


def _rows(plan: Plan, table: str, **where: Any) -> list[dict[str, Any]]:
    return [r for r in plan.rows[table] if all(r.get(k) == v for k, v in where.items())]


def _school() -> tuple[LegacyData, str]:
    data = LegacyData()
    return data, data.institution()


def test_institutions_with_the_same_normalized_name_become_one_with_their_users_and_courses() -> (
    None
):
    data = LegacyData()
    first = data.institution("ABC Academy", days=0)
    second = data.institution(" abc  ACADEMY ", days=1)
    user = data.user("ann@abc.example", second)
    data.course(first)
    plan = _plan(data)
    assert [i["key"] for i in plan.rows["institutions"]] == [first]
    assert _rows(plan, "users", key=user)[0]["institution_id"] == first
    assert plan.report.decisions["institutions_merged"] == 1
    assert plan.report.tables["institutions"].merged == 1


def test_a_user_whose_institution_is_gone_goes_to_the_institution_of_their_courses() -> None:
    data, school = _school()
    user = data.user("ann@x.example", "00000000-0000-0000-0000-000000000000")
    data.enrollment(user, data.course(school))
    plan = _plan(data)
    assert _rows(plan, "users", key=user)[0]["institution_id"] == school
    assert plan.report.decisions["institution_from_enrollments"] == 1


def test_a_user_with_no_institution_and_no_courses_is_skipped_and_reported() -> None:
    data, _ = _school()
    data.user("ann@nowhere.example", None)
    plan = _plan(data)
    assert plan.rows["users"] == []
    assert plan.report.tables["users"].reasons["no_institution"] == 1


def test_e_mails_differing_in_case_are_one_user_the_oldest_keeping_its_id() -> None:
    data, school = _school()
    course = data.course(school)
    old = data.user("Ann@X.example", school, days=1)
    twin = data.user("ANN@x.example", school, days=2, profile=False, password_hash=LEGACY_HASH)
    data.enrollment(twin, course)
    plan = _plan(data)
    users = plan.rows["users"]
    assert [u["key"] for u in users] == [old]
    assert users[0]["password_hash"] == LEGACY_HASH  # the twin's usable hash is kept
    assert _rows(plan, "enrollments")[0]["user_id"] == old
    assert plan.report.decisions["users_merged_by_email"] == 1


def test_a_student_without_a_profile_gets_one() -> None:
    data, school = _school()
    user = data.user("ann@x.example", school, profile=False)
    plan = _plan(data)
    assert _rows(plan, "student_profiles", user_id=user)
    assert plan.report.decisions["profiles_created"] == 1


def test_an_orphaned_profile_becomes_a_user_without_a_password_or_is_merged_by_e_mail() -> None:
    data, school = _school()
    data.user("admin@abc.example", school, role="ADMIN", profile=False)
    known = data.user("bob@abc.example", school)
    orphan = data.add("students", user_id="gone", name="Orphan", email="ORPHAN@abc.example",
                      bio="hi", created_at=at(3))  # fmt: skip
    data.add("students", user_id="gone-too", name="Bob", email="Bob@abc.example",
             created_at=at(3))  # fmt: skip
    plan = _plan(data)
    made = _rows(plan, "users", key=orphan)[0]
    assert made["password_hash"] == NO_PASSWORD
    assert made["institution_id"] == school  # the only institution of abc.example
    assert _rows(plan, "student_profiles", user_id=orphan)[0]["bio"] == "hi"
    assert plan.report.decisions["profiles_became_users"] == 1
    assert plan.report.decisions["profiles_merged_into_users"] == 1
    links = plan.links["students"]
    students = dict(zip(links.legacy_ids, links.refs, strict=True))
    assert students[orphan] == orphan
    assert known in students.values()


def test_roles_are_parsed_case_insensitively() -> None:
    data, school = _school()
    admin = data.user("a@x.example", school, role=" ADMIN ", profile=False)
    student = data.user("s@x.example", school, role="Student")
    plan = _plan(data)
    assert _rows(plan, "users", key=admin)[0]["role"] == "admin"
    assert _rows(plan, "users", key=student)[0]["role"] == "student"


def test_course_status_is_parsed_and_an_unknown_one_is_a_reported_draft() -> None:
    data, school = _school()
    active = data.course(school, status="Active")
    odd = data.course(school, status="someday")
    plan = _plan(data)
    assert _rows(plan, "courses", key=active.id)[0]["status"] == "published"
    assert _rows(plan, "courses", key=odd.id)[0]["status"] == "draft"
    assert plan.report.decisions["course_statuses_unknown_as_draft"] == 1


def test_course_access_follows_the_flags_in_order() -> None:
    data, school = _school()
    courses = {
        "default": data.course(school, default=True, price=10),
        "paid": data.course(school, price=49, requires_approval=True),
        "approval": data.course(school, requires_approval=True),
        "open": data.course(school),
    }
    plan = _plan(data)
    for access, course in courses.items():
        assert _rows(plan, "courses", key=course.id)[0]["access"] == access
    assert _rows(plan, "courses", key=courses["paid"].id)[0]["price_cents"] == 4900


def test_chapters_become_lessons_and_a_video_of_unknown_length_is_not_required() -> None:
    data, school = _school()
    course = data.course(school, duration=None)
    plan = _plan(data)
    lessons = {r["key"]: r for r in plan.rows["lessons"]}
    assert lessons[course.video]["kind"] == "video"
    assert not lessons[course.video]["required"]
    assert lessons[course.quiz]["kind"] == "quiz"
    assert lessons[course.quiz]["pass_mark"] == 0.7
    assert [q["answer"] for q in lessons[course.quiz]["questions"]] == [0, 1, 2]
    assert plan.report.decisions["videos_without_duration_not_required"] == 1


def test_both_enrollment_tables_make_one_enrollment_also_by_profile_id() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school, profile=False)
    profile = data.add("students", user_id=user, email="ann@x.example", created_at=at(1))
    data.enrollment(user, course)
    data.student_progress(profile, course)
    plan = _plan(data)
    assert len(plan.rows["enrollments"]) == 1
    assert plan.report.decisions["enrollments_from_both_tables"] == 1
    assert plan.report.tables["student_progress"].merged == 1


def test_an_enrollment_is_cancelled_only_where_the_legacy_rows_say_so_and_nothing_else() -> None:
    data, school = _school()
    paid = data.course(school, price=49)
    free = data.course(school)
    user = data.user("ann@x.example", school)
    data.enrollment(user, free, status="Cancelled")
    data.enrollment(user, paid, status="cancelled")
    data.payment(user, paid, "completed", "cs_1")
    plan = _plan(data)
    status = {r["course_id"]: r["status"] for r in plan.rows["enrollments"]}
    assert status == {free.id: "cancelled", paid.id: "active"}


def test_an_approved_request_without_an_enrollment_creates_one_from_the_request() -> None:
    data, school = _school()
    course = data.course(school, requires_approval=True)
    user = data.user("ann@x.example", school)
    data.request(user, course, "approved")
    plan = _plan(data)
    assert [r["source"] for r in plan.rows["enrollments"]] == ["request"]
    assert plan.report.decisions["enrollments_from_approved_requests"] == 1


def test_a_completed_payment_without_an_enrollment_creates_one_and_a_refund_cancels_it() -> None:
    data, school = _school()
    kept, refunded = data.course(school, price=49), data.course(school, price=49)
    user = data.user("ann@x.example", school)
    data.payment(user, kept, "completed", "cs_1")
    data.enrollment(user, refunded)
    data.payment(user, refunded, "completed", "cs_2")
    data.payment(user, refunded, "refunded", "cs_2")
    plan = _plan(data)
    rows = {r["course_id"]: r for r in plan.rows["enrollments"]}
    assert (rows[kept.id]["source"], rows[kept.id]["status"]) == ("payment", "active")
    assert rows[refunded.id]["status"] == "cancelled"
    assert plan.report.decisions["enrollments_from_payments"] == 1


def test_students_never_enrolled_join_their_institutions_published_default_courses() -> None:
    data, school = _school()
    default = data.course(school, default=True)
    data.course(school, default=True, status="draft")
    user = data.user("ann@x.example", school)
    plan = _plan(data)
    assert [(r["user_id"], r["course_id"], r["source"]) for r in plan.rows["enrollments"]] == [
        (user, default.id, "default")
    ]
    assert plan.report.decisions["default_course_enrollments"] == 1


def test_a_pending_request_beside_an_enrollment_is_approved_and_two_pending_become_one() -> None:
    data, school = _school()
    enrolled, waiting = data.course(school, requires_approval=True), data.course(school)
    user = data.user("ann@x.example", school)
    data.enrollment(user, enrolled)
    data.request(user, enrolled, "pending")
    data.request(user, waiting, "pending", days=1)
    data.request(user, waiting, "Pending", days=2)
    plan = _plan(data)
    statuses = sorted(
        (r["course_id"] == enrolled.id, r["status"]) for r in plan.rows["access_requests"]
    )
    assert statuses == [(False, "pending"), (True, "approved")]
    assert plan.report.decisions["pending_requests_closed"] == 1
    assert plan.report.tables["access_requests"].merged == 1


def test_payments_are_one_per_provider_session_and_a_wrong_amount_is_flagged() -> None:
    data, school = _school()
    course, cheap = data.course(school, price=49), data.course(school, price=49)
    user = data.user("ann@x.example", school)
    data.payment(user, course, "completed", "cs_1")
    data.payment(user, course, "completed", "cs_1")
    data.payment(user, cheap, "completed", "cs_2", amount=1.0)
    plan = _plan(data)
    by_course = {r["course_id"]: r for r in plan.rows["payments"]}
    assert len(plan.rows["payments"]) == 2
    assert by_course[cheap.id]["status"] == "flagged"
    assert by_course[cheap.id]["flag_reason"]
    assert plan.report.decisions["payments_deduplicated"] == 1
    assert [r["course_id"] for r in plan.rows["enrollments"]] == [course.id]


def test_watched_seconds_become_an_interval_from_zero_and_the_90_percent_rule_decides() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school)
    data.enrollment(user, course)
    data.watched(user, course, 500, completed=True)  # 83 % although the client said done
    plan = _plan(data)
    facts = plan.rows["lesson_progress"][0]
    assert facts["watched"] == [[0.0, 500.0]]
    assert facts["completed_at"] is None
    assert plan.report.decisions["video_completion_flags_overruled"] == 1


def test_quiz_attempts_are_rescored_on_the_server_and_a_different_client_score_reported() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school)
    data.enrollment(user, course)
    data.quiz_attempt(user, course, [0, 1, 0], score=100, passed=True)
    plan = _plan(data)
    attempt = plan.rows["quiz_attempts"][0]
    assert (round(attempt["score"], 4), attempt["passed"]) == (0.6667, False)
    assert plan.report.decisions["quiz_scores_corrected"] == 1


def test_readings_in_completed_chapters_are_complete_and_other_chapters_are_not() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school)
    data.student_progress(user, course, completed_chapters=[course.reading, course.video],
                          total_progress=66.67)  # fmt: skip
    plan = _plan(data)
    [facts] = plan.rows["lesson_progress"]
    assert facts["lesson_id"] == course.reading
    assert facts["completed_at"] is not None
    assert plan.rows["enrollments"][0]["progress"] == 33.33
    assert plan.report.decisions["completed_chapters_not_readings_ignored"] == 1
    assert plan.report.decisions["progress_differs_from_legacy"] == 1


def test_qbank_test_scores_are_recomputed_from_the_answers_and_statistics_not_copied() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school)
    data.enrollment(user, course)
    question = data.add("qbank_questions", course_id=course.id, prompt="?",
                        options=["a", "b"], correct_index=1)  # fmt: skip
    test = data.add("qbank_tests", user_id=user, course_id=course.id, status="completed",
                    score=0, created_at=at(23), completed_at=at(23))  # fmt: skip
    data.add("qbank_question_attempts", test_id=test, question_id=question, user_id=user,
             selected_index=1, is_correct=False, created_at=at(23))  # fmt: skip
    data.add("qbank_question_statistics", question_id=question, total_attempts=9,
             correct_attempts=0)  # fmt: skip
    plan = _plan(data)
    assert plan.rows["qbank_tests"][0]["score"] == 1.0
    assert plan.rows["qbank_test_questions"][0]["is_correct"] is True
    assert plan.rows["qbank_questions"][0]["attempts"] == 0  # recounted after writing
    assert plan.report.decisions["qbank_scores_corrected"] == 1
    assert plan.report.tables["qbank_question_statistics"].merged == 1


def test_met_criteria_complete_the_enrollment_with_a_certificate_as_at_its_completion() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school)
    data.enrollment(user, course, status="active", progress=10)
    data.complete_everything(user, course)
    plan = _plan(data)
    [enrollment] = plan.rows["enrollments"]
    assert (enrollment["status"], enrollment["progress"]) == ("completed", 100.0)
    assert enrollment["completed_at"] == at(22)  # the last criterion met: the quiz
    [certificate] = plan.rows["certificates"]
    assert certificate["issued_at"] == at(22)
    assert certificate["learner_name"] == "Ann Example"


def test_a_legacy_completion_the_facts_do_not_support_is_reported_and_not_imported() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school)
    data.enrollment(user, course, status="completed", progress=100)
    plan = _plan(data)
    assert plan.rows["enrollments"][0]["status"] == "active"
    assert plan.rows["certificates"] == []
    assert plan.report.decisions["legacy_completions_not_met"] == 1


def test_rows_that_point_at_nothing_are_skipped_and_reported() -> None:
    data, school = _school()
    course = data.course(school)
    user = data.user("ann@x.example", school)
    data.add(
        "enrollments", user_id="ghost", course_id=course.id, status="active", enrolled_at=at(1)
    )
    data.add("student_progress", student_id=user, course_id="ghost", created_at=at(1))
    plan = _plan(data)
    assert plan.report.tables["enrollments"].reasons["user_missing"] == 1
    assert plan.report.tables["student_progress"].reasons["course_missing"] == 1


def test_an_e_mail_lectern_already_has_is_merged_into_that_user() -> None:
    data, school = _school()
    data.user("ann@x.example", school)
    known = Known(users={"ann@x.example": KnownUser(7, 3, "Ann")}, institutions={"abc academy": 3})
    plan = _plan(data, known)
    assert plan.rows["users"] == []
    assert plan.rows["institutions"] == []
    assert plan.report.decisions["users_matched_existing"] == 1


def test_bcrypt_hashes_are_kept_and_malformed_ones_are_not() -> None:
    data, school = _school()
    good = data.user("a@x.example", school, password_hash=LEGACY_HASH)
    bad = data.user("b@x.example", school, password_hash="$2b$12$" + "x" * 10)
    plan = _plan(data)
    assert _rows(plan, "users", key=good)[0]["password_hash"] == LEGACY_HASH
    assert _rows(plan, "users", key=bad)[0]["password_hash"] == NO_PASSWORD
