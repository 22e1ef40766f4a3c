"""Random sequences of the enrollment commands by several students and the admins of two
institutions, checking after every step the invariants of design section 5 that the schema
and the commands must keep, and that the figures admins see equal the rows.

The machine runs in a worker thread; each rule hands its coroutine to the test session's event
loop (where the app, its database and the client live) and waits for the answer.
"""

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from lectern.platform.db import Database
from tests.factories import PASSWORD, Person, World
from tests.rows import empty_tables, rows, scalar

T = TypeVar("T")
_emails = itertools.count(1)
INSTITUTIONS = ("Harbor School", "Ridge College")
ACCESS_MODES = ("approval", "approval", "open", "default")

VIOLATIONS = {
    "pending request beside an enrollment": """
        SELECT r.id FROM access_requests r JOIN enrollments e
          ON e.user_id = r.user_id AND e.course_id = r.course_id
        WHERE r.status = 'pending' AND e.status IN ('active', 'completed')""",
    "approved request without an enrollment": """
        SELECT r.id FROM access_requests r LEFT JOIN enrollments e
          ON e.user_id = r.user_id AND e.course_id = r.course_id
        WHERE r.status = 'approved' AND e.id IS NULL""",
    "student without a profile": """
        SELECT u.id FROM users u LEFT JOIN student_profiles p ON p.user_id = u.id
        WHERE u.role = 'student' AND p.user_id IS NULL""",
    "profile of a non-student": """
        SELECT p.user_id FROM student_profiles p JOIN users u ON u.id = p.user_id
        WHERE u.role <> 'student'""",
    "enrollment in another institution's course": """
        SELECT e.id FROM enrollments e JOIN users u ON u.id = e.user_id
          JOIN courses c ON c.id = e.course_id
        WHERE u.institution_id <> c.institution_id""",
}

INSTITUTION_FIGURES = {
    "students": "SELECT count(*) FROM users WHERE role = 'student' AND institution_id = :i",
    "active_enrollments": "SELECT count(*) FROM enrollments x"
    " JOIN courses c ON c.id = x.course_id WHERE c.institution_id = :i AND x.status = 'active'",
    "pending_requests": "SELECT count(*) FROM access_requests x"
    " JOIN courses c ON c.id = x.course_id WHERE c.institution_id = :i AND x.status = 'pending'",
    "active_learners": "SELECT count(DISTINCT x.user_id) FROM enrollments x"
    " JOIN courses c ON c.id = x.course_id WHERE c.institution_id = :i AND x.status = 'active'",
}
COURSE_FIGURES = {
    "active_enrollments": "SELECT count(*) FROM enrollments WHERE course_id = :c"
    " AND status = 'active'",
    "cancelled_enrollments": "SELECT count(*) FROM enrollments WHERE course_id = :c"
    " AND status = 'cancelled'",
    "pending_requests": "SELECT count(*) FROM access_requests WHERE course_id = :c"
    " AND status = 'pending'",
}
STUDENT_FIGURES = {
    "active_enrollments": "SELECT count(*) FROM enrollments WHERE user_id = :u"
    " AND status = 'active'",
    "cancelled_enrollments": "SELECT count(*) FROM enrollments WHERE user_id = :u"
    " AND status = 'cancelled'",
    "pending_requests": "SELECT count(*) FROM access_requests WHERE user_id = :u"
    " AND status = 'pending'",
}


class EnrollmentMachine(RuleBasedStateMachine):
    students = Bundle("students")
    requests = Bundle("requests")
    enrollments = Bundle("enrollments")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, db: Database, client: httpx.AsyncClient
    ) -> None:
        super().__init__()
        self.loop, self.db, self.client = loop, db, client
        self.world = World(db, client)
        self.admins: list[Person] = []
        self.courses: list[int] = []
        # By e-mail, not id: SQLite hands a deleted user's id to the next user registered.
        self.deleted: set[str] = set()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def call(self, method: str, path: str, who: Person, body: Any = None) -> httpx.Response:
        r = self.run(self.client.request(method, path, json=body, headers=who.headers))
        assert r.status_code < 500, (method, path, r.text)
        return r

    @initialize(target=students)
    def two_institutions(self) -> Any:
        self.run(empty_tables(self.db))
        first_students = []
        for name in INSTITUTIONS:
            admin = self.run(self.world.admin(name))
            self.admins.append(self.run(self.world.admin(name)))
            self.admins.append(admin)
            for access in ACCESS_MODES:
                course = self.run(self.world.course(admin, access=access))
                self.courses.append(course["id"])
            first_students.append(self.run(self.world.student(admin.institution_slug)))
        return multiple(*first_students)

    @rule(target=students, institution=st.sampled_from(INSTITUTIONS))
    def register(self, institution: str) -> Person:
        slug = next(
            a.institution_slug
            for a in self.admins
            if a.institution_slug.startswith(institution.split()[0].lower())
        )
        email = f"machine{next(_emails)}@example.test"
        r = self.run(
            self.client.post(
                "/api/v1/auth/register",
                json={
                    "institution": slug,
                    "email": email,
                    "password": PASSWORD,
                    "full_name": email,
                },
            )
        )
        assert r.status_code == 201, r.text
        token = self.run(
            self.client.post("/api/v1/auth/tokens", json={"email": email, "password": PASSWORD})
        )
        user = r.json()
        return Person(
            user["id"], email, email, "student", user["institution_id"], slug, token.json()["token"]
        )

    @rule(target=requests, student=students, course=st.integers(0, 7))
    def request_access(self, student: Person, course: int) -> Any:
        r = self.call("POST", f"/api/v1/courses/{self.courses[course]}/access-requests", student)
        assert r.status_code in (200, 201, 404, 409), r.text
        if r.status_code in (200, 201):
            return (student, r.json()["id"])
        return multiple()

    @rule(request=requests)
    def cancel(self, request: tuple[Person, int]) -> None:
        student, request_id = request
        r = self.call("DELETE", f"/api/v1/access-requests/{request_id}", student)
        assert r.status_code in ((401,) if student.email in self.deleted else (200, 409)), r.text

    @rule(request=requests, admin=st.integers(0, 3), approve=st.booleans())
    def review(self, request: tuple[Person, int], admin: int, approve: bool) -> None:
        verb = "approve" if approve else "reject"
        r = self.call(
            "POST", f"/api/v1/admin/access-requests/{request[1]}/{verb}", self.admins[admin]
        )
        assert r.status_code in (200, 404, 409), r.text
        if r.status_code == 404:
            assert (
                self.admins[admin].institution_id != request[0].institution_id
                or request[0].email in self.deleted
            )

    @rule(target=enrollments, student=students, course=st.integers(0, 7))
    def self_enroll(self, student: Person, course: int) -> Any:
        r = self.call("POST", f"/api/v1/courses/{self.courses[course]}/enroll", student)
        assert r.status_code in (200, 201, 404, 409), r.text
        return r.json()["id"] if r.status_code in (200, 201) else multiple()

    @rule(target=enrollments, student=students, course=st.integers(0, 7), admin=st.integers(0, 3))
    def admin_enroll(self, student: Person, course: int, admin: int) -> Any:
        body = {"user_id": student.id, "course_id": self.courses[course]}
        r = self.call("POST", "/api/v1/admin/enrollments", self.admins[admin], body)
        assert r.status_code in (200, 201, 404), r.text
        return r.json()["id"] if r.status_code in (200, 201) else multiple()

    @rule(enrollment=enrollments, admin=st.integers(0, 3))
    def unenroll(self, enrollment: int, admin: int) -> None:
        r = self.call("DELETE", f"/api/v1/admin/enrollments/{enrollment}", self.admins[admin])
        assert r.status_code in (200, 404), r.text

    @rule(student=consumes(students), admin=st.integers(0, 3))
    def delete_student(self, student: Person, admin: int) -> None:
        r = self.call("DELETE", f"/api/v1/admin/users/{student.id}", self.admins[admin])
        assert r.status_code in (204, 404), r.text
        if r.status_code == 204:
            self.deleted.add(student.email)
        else:
            assert self.admins[admin].institution_id != student.institution_id

    @invariant()
    def no_violations(self) -> None:
        if not self.admins:
            return
        for name, sql in VIOLATIONS.items():
            assert self.run(rows(self.db, sql)) == [], name

    @invariant()
    def admin_figures_equal_the_rows(self) -> None:
        for admin in self.admins[1::2]:
            self.run(self._check_figures(admin))

    async def _check_figures(self, admin: Person) -> None:
        figures = (await self.client.get("/api/v1/admin/analytics", headers=admin.headers)).json()
        for name, sql in INSTITUTION_FIGURES.items():
            assert figures[name] == await scalar(self.db, sql, i=admin.institution_id), name
        for course in figures["courses"]:
            for name, sql in COURSE_FIGURES.items():
                assert course[name] == await scalar(self.db, sql, c=course["course_id"]), name
        students = (await self.client.get("/api/v1/admin/students", headers=admin.headers)).json()
        for summary in students:
            for name, sql in STUDENT_FIGURES.items():
                assert summary[name] == await scalar(self.db, sql, u=summary["id"]), name


async def test_random_command_sequences_keep_the_invariants(
    app: FastAPI, db: Database, client: httpx.AsyncClient
) -> None:
    loop = asyncio.get_running_loop()
    bounded = settings(
        max_examples=8,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        # Shrinking replays many slow HTTP sequences; the failing sequence is printed unshrunk.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    await asyncio.to_thread(
        run_state_machine_as_test, lambda: EnrollmentMachine(loop, db, client), settings=bounded
    )
