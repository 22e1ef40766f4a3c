"""Merging keeps what the duplicates were joined to: their sign-in providers (one the survivor has
too gives it its identities), LTI platforms, webhook subscriptions and the mail they still owe."""

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import Base
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.factories import Person, World
from tests.institutions.conftest import merge_path
from tests.rows import rows

TABLES = Base.metadata.tables


async def _insert(session: AsyncSession, table: str, **values: Any) -> int:
    inserted = await session.execute(
        TABLES[table].insert().values(**values).returning(TABLES[table].c.id)
    )
    return int(inserted.scalar_one())


def _provider(institution_id: int, issuer: str) -> dict[str, Any]:
    return {
        "institution_id": institution_id,
        "name": "School account",
        "issuer": issuer,
        "client_id": "lectern",
        "client_secret": "s3cret",
        "email_domain": "example.test",
    }


async def test_a_merge_moves_the_duplicates_connections_and_merges_a_shared_provider(
    world: World, client: httpx.AsyncClient, db: Database, platform: Person
) -> None:
    keep = await world.admin("North College")
    dup = await world.admin("North College (old)")
    learner = await world.student(dup.institution_slug)
    shared_issuer = "https://id.north.example"

    lti = {
        "institution_id": dup.institution_id,
        "name": "Moodle",
        "issuer": "https://moodle.example",
        "client_id": "c-1",
        "jwks_url": "https://moodle.example/jwks",
        "auth_login_url": "https://moodle.example/auth",
    }
    mail = {
        "user_id": learner.id,
        "institution_id": dup.institution_id,
        "kind": "enrolled",
        "to_address": learner.email,
        "subject": "Enrolled",
        "text_body": "Hi",
        "html_body": "<p>Hi</p>",
        "unsubscribe_url": "https://lectern.example/u",
        "message_id": "<m-1@lectern>",
    }

    async def connect(session: AsyncSession) -> dict[str, int]:
        made = {
            "kept": await _insert(
                session, "oidc_providers", **_provider(keep.institution_id, shared_issuer)
            ),
            "shared": await _insert(
                session, "oidc_providers", **_provider(dup.institution_id, shared_issuer)
            ),
            "own": await _insert(
                session, "oidc_providers", **_provider(dup.institution_id, "https://old.example")
            ),
            "destination": await _insert(
                session, "outbound_destinations", kind="webhook", institution_id=dup.institution_id
            ),
            "lti": await _insert(session, "lti_platforms", **lti),
            "mail": await _insert(session, "mail_outbox", **mail),
        }
        identity = {"provider_id": made["shared"], "subject": "s-1", "user_id": learner.id}
        await _insert(session, "oidc_identities", **identity, created_at=utcnow())
        subscription = {"url": "https://hooks.example/in", "secret": "whsec_x"}
        await session.execute(
            TABLES["webhook_subscriptions"]
            .insert()
            .values(id=made["destination"], institution_id=dup.institution_id, **subscription)
        )
        return made

    made = await db.run(connect)

    merged = await client.post(
        merge_path(keep), json={"duplicate_ids": [dup.institution_id]}, headers=platform.headers
    )

    assert merged.status_code == 200, merged.text
    providers = await rows(db, "SELECT id, institution_id FROM oidc_providers ORDER BY id")
    assert providers == [
        {"id": made["kept"], "institution_id": keep.institution_id},
        {"id": made["own"], "institution_id": keep.institution_id},
    ]
    identities = await rows(db, "SELECT provider_id, subject, user_id FROM oidc_identities")
    assert identities == [{"provider_id": made["kept"], "subject": "s-1", "user_id": learner.id}]
    for table, key in (
        ("outbound_destinations", "destination"),
        ("webhook_subscriptions", "destination"),
        ("lti_platforms", "lti"),
        ("mail_outbox", "mail"),
    ):
        moved = await rows(db, f"SELECT institution_id FROM {table} WHERE id = :id", id=made[key])  # noqa: S608
        assert moved == [{"institution_id": keep.institution_id}], table
