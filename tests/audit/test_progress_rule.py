"""The audit's progress check, set-based in SQL, says exactly what the pure rule says."""

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, update

from lectern.audit import invariants
from lectern.audit.invariants import INVARIANTS, violations
from lectern.audit.progress_rule import stale_progress_candidates
from lectern.audit.service import run_audit
from lectern.generate.service import generate
from lectern.models import (
    Chapter,
    Course,
    Enrollment,
    Institution,
    Lesson,
    LessonProgress,
    QbankTest,
    User,
)
from lectern.models.base import utcnow
from lectern.platform.db import Database
from lectern.progress.rules import course_items, course_progress, criteria_met

STALE = next(i for i in INVARIANTS if i.name == "stale_progress")
QBANK_PASS_MARK = 0.5
_names = itertools.count(1)

weights = st.sampled_from([0.1, 0.25, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 7.0]) | st.floats(
    0.01, 10.0, allow_nan=False
).map(lambda w: round(w, 3))
lessons = st.lists(st.tuples(weights, st.booleans()), max_size=6)  # (weight, required)


@dataclass(frozen=True)
class Learner:
    done: frozenset[int]  # positions of completed lessons
    qbank: float | None  # a finished test's score, if any
    drift: float | None  # stored progress minus the rule's; None: any value at all
    anything: float


learners = st.builds(
    Learner,
    done=st.frozensets(st.integers(0, 5)),
    qbank=st.none() | st.sampled_from([0.4, 0.5, 0.9]),
    drift=st.none() | st.sampled_from([0.0, 0.0, 0.0, 0.01, -0.01, 0.003, -0.005, 1.0]),
    anything=st.floats(0.0, 100.0),
)


async def _course(db: Database, shape: list[tuple[float, bool]], qbank_required: bool) -> Any:
    n = next(_names)
    async with db.engine.begin() as connection:
        institution_id = (
            await connection.execute(
                insert(Institution)
                .values(name=f"Rule {n}", name_key=f"rule {n}", slug=f"rule-{n}")
                .returning(Institution.id)
            )
        ).scalar_one()
        course_id = (
            await connection.execute(
                insert(Course)
                .values(institution_id=institution_id, title=f"Rule {n}", slug=f"rule-{n}",
                        status="published", access="open", qbank_required=qbank_required,
                        qbank_pass_mark=QBANK_PASS_MARK)
                .returning(Course.id)
            )
        ).scalar_one()  # fmt: skip
        chapter_id = (
            await connection.execute(
                insert(Chapter).values(course_id=course_id, title="One").returning(Chapter.id)
            )
        ).scalar_one()
        lesson_ids = [
            (
                await connection.execute(
                    insert(Lesson)
                    .values(chapter_id=chapter_id, course_id=course_id, title=f"L{p}",
                            kind="reading", position=p, weight=weight, required=required)
                    .returning(Lesson.id)
                )
            ).scalar_one()
            for p, (weight, required) in enumerate(shape)
        ]  # fmt: skip
    return institution_id, course_id, lesson_ids


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=lessons, qbank_required=st.booleans(), group=st.lists(learners, min_size=1, max_size=6)
)
async def test_the_sql_progress_check_flags_exactly_what_the_pure_rule_flags(
    db: Database, shape: list[tuple[float, bool]], qbank_required: bool, group: list[Learner]
) -> None:
    institution_id, course_id, lesson_ids = await _course(db, shape, qbank_required)
    required = [(lesson_ids[p], w) for p, (w, needed) in enumerate(shape) if needed]
    flagged = set()
    async with db.engine.begin() as connection:
        for learner in group:
            done = {lesson_ids[p] for p in learner.done if p < len(lesson_ids)}
            passed = learner.qbank is not None and learner.qbank >= QBANK_PASS_MARK
            items = course_items(required, done, qbank_required=qbank_required, qbank_passed=passed)
            rule = course_progress(items)
            stored = learner.anything if learner.drift is None else rule + learner.drift
            stored = min(max(stored, 0.0), 100.0)
            n = next(_names)
            user_id = (
                await connection.execute(
                    insert(User)
                    .values(institution_id=institution_id, email=f"r{n}@rule.test",
                            email_key=f"r{n}@rule.test", password_hash="-", full_name=f"R {n}")
                    .returning(User.id)
                )
            ).scalar_one()  # fmt: skip
            enrollment_id = (
                await connection.execute(
                    insert(Enrollment)
                    .values(user_id=user_id, course_id=course_id, source="self", progress=stored)
                    .returning(Enrollment.id)
                )
            ).scalar_one()
            for lesson_id in done:
                await connection.execute(
                    insert(LessonProgress).values(
                        enrollment_id=enrollment_id, lesson_id=lesson_id, completed_at=utcnow()
                    )
                )
            if learner.qbank is not None:
                await connection.execute(
                    insert(QbankTest).values(
                        enrollment_id=enrollment_id, status="completed", score=learner.qbank
                    )
                )
            if abs(rule - stored) > 1e-6 or criteria_met(items):
                flagged.add(enrollment_id)

    async with db.session() as session:
        count, rows = await violations(session, STALE, institution_id, limit=100)

    assert {row["id"] for row in rows} == flagged
    assert count == len(flagged)


async def test_stale_progress_is_counted_across_chunks_without_an_id_list(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await generate(db, 120, seed=5)
    async with db.session() as session:
        clean = (await session.execute(stale_progress_candidates(None))).all()
    async with db.engine.begin() as connection:
        damaged = (
            (
                await connection.execute(
                    update(Enrollment)
                    .where(Enrollment.status == "active", Enrollment.progress < 50)
                    .values(progress=Enrollment.progress + 50)
                    .returning(Enrollment.id)
                )
            )
            .scalars()
            .all()
        )
    monkeypatch.setattr(invariants, "STREAM_CHUNK", 7)

    async with db.session() as session:
        report = await run_audit(session)

    found = {f.name: f for f in report.findings if f.count}
    assert clean == []  # the database, not Python, sifted the clean enrollments out
    assert set(found) == {"stale_progress"}
    assert len(damaged) > 7
    assert found["stale_progress"].count == len(damaged)
    assert sorted(row["id"] for row in found["stale_progress"].rows) == sorted(damaged)
