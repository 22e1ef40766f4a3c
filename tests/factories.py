"""People and courses for tests, made through the same commands the API uses."""

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from lectern.accounts.security import hash_password
from lectern.accounts.service import create_staff, issue_api_token, register_student
from lectern.models import Institution
from lectern.models.enums import Role
from lectern.platform.db import Database

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    full_name: str
    role: str
    institution_id: int
    institution_slug: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class World:
    def __init__(self, db: Database, client: httpx.AsyncClient) -> None:
        self.db = db
        self.client = client
        self._password_hash = hash_password(PASSWORD)

    async def admin(
        self,
        institution: str = "Northwind Academy",
        role: Role = Role.ADMIN,
        *,
        platform_admin: bool = False,
    ) -> Person:
        n = next(_counter)
        email = f"{role.value}{n}@{institution.split()[0].lower()}.test"

        async def command(session: Any) -> Person:
            user, _ = await create_staff(
                session,
                institution_name=institution,
                email=email,
                password_hash=self._password_hash,
                full_name=f"{role.value.title()} {n}",
                role=role,
                is_platform_admin=platform_admin,
            )
            token = await issue_api_token(session, user)
            slug = (await session.get(Institution, user.institution_id)).slug
            return Person(user.id, email, user.full_name, role, user.institution_id, slug, token)

        return await self.db.run(command)

    async def student(self, institution_slug: str, name: str | None = None) -> Person:
        n = next(_counter)
        email = f"student{n}@example.test"
        full_name = name or f"Student {n}"

        async def command(session: Any) -> Person:
            user = await register_student(
                session,
                institution_slug=institution_slug,
                email=email,
                password_hash=self._password_hash,
                full_name=full_name,
            )
            token = await issue_api_token(session, user)
            return Person(
                user.id,
                email,
                full_name,
                Role.STUDENT,
                user.institution_id,
                institution_slug,
                token,
            )

        return await self.db.run(command)

    async def course(self, author: Person, **fields: Any) -> dict[str, Any]:
        body = {"title": f"Course {next(_counter)}", "status": "published", "access": "approval"}
        body.update(fields)
        response = await self.client.post("/api/v1/courses", json=body, headers=author.headers)
        assert response.status_code == 201, response.text
        course: dict[str, Any] = response.json()
        return course

    async def make_staff(
        self, admin: Person, course: dict[str, Any], person: Person, role: str = "instructor"
    ) -> None:
        """Give `person` a role in `course`, as an admin does."""
        response = await self.client.post(
            f"/api/v1/admin/courses/{course['id']}/staff",
            json={"user_id": person.id, "role": role},
            headers=admin.headers,
        )
        assert response.status_code in (200, 201), response.text
