"""The cross-institution matrix, enumerated from the app's OpenAPI document so that a new
endpoint cannot escape it: an admin of A gets 404 for B's ids; a student gets 403 from every
admin endpoint; nothing is written and nothing of B's shows."""

from typing import Any

import httpx
from fastapi import FastAPI

from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import row_counts, rows

B_MARK = "Zeta"
# A parameter names the table its id comes from; the rest are `<singular>_id` → `<singular>s`.
TABLE_OF = {"request_id": "access_requests", "test_id": "qbank_tests"}
UNKNOWN_ID = 987654
PLATFORM = "/api/v1/platform/"  # a platform admin's, across institutions


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in ops.items()
    ]


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def sample(
    schema: dict[str, Any], spec: dict[str, Any], ids: dict[str, int], name: str = ""
) -> Any:
    """The smallest value the schema accepts, with B's ids wherever an id is asked for."""
    schema = _resolve(schema, spec)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return sample(options[0], spec, ids, name) if len(options) == len(schema["anyOf"]) else None
    kind = schema.get("type")
    if name.endswith("_id") and kind == "integer":
        return ids.get(name, UNKNOWN_ID)
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {
            prop: sample(sub, spec, ids, prop)
            for prop, sub in schema.get("properties", {}).items()
            if prop in schema.get("required", [])
        }
    if kind == "array":
        return [sample(schema["items"], spec, ids)] * schema.get("minItems", 0)
    if kind == "string":
        return (
            "someone@example.test"
            if schema.get("format") == "email"
            else "x" * schema.get("minLength", 1)
        )
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    return None


def request_for(
    method: str, path: str, op: dict[str, Any], spec: dict[str, Any], ids: dict[str, int]
) -> tuple[str, dict[str, Any], Any]:
    url = path
    query: dict[str, Any] = {}
    for param in op.get("parameters", []):
        value = ids.get(param["name"], UNKNOWN_ID) if param["name"].endswith("_id") else None
        if param["in"] == "path":
            assert value is not None, f"the matrix does not know path parameter {param['name']}"
            url = url.replace("{" + param["name"] + "}", str(value))
        elif param["in"] == "query" and value is not None:
            query[param["name"]] = value
    body_schema = (
        op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    )
    body = sample(body_schema, spec, ids) if body_schema else None
    return url, query, body


async def _institution_b(world: World, client: httpx.AsyncClient) -> dict[str, int]:
    """Institution B with one row of each kind; returns an id of each kind, by parameter name."""
    admin = await world.admin(f"{B_MARK} Institute")
    student = await world.student(admin.institution_slug, f"{B_MARK} Learner")
    course = await world.course(
        admin,
        title=f"{B_MARK} Course",
        access="open",
        chapters=[
            {
                "title": f"{B_MARK} Chapter",
                "lessons": [
                    {
                        "title": f"{B_MARK} Quiz",
                        "kind": "quiz",
                        "questions": [{"prompt": "Q?", "choices": ["a", "b"], "answer": 0}],
                    }
                ],
            }
        ],
        qbank=[{"prompt": f"{B_MARK} bank?", "choices": ["a", "b"], "answer": 1, "topic": "t"}],
    )
    approval = await world.course(admin, title=f"{B_MARK} Approval")
    await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
    await client.post(f"/api/v1/courses/{approval['id']}/access-requests", headers=student.headers)
    await client.post(
        f"/api/v1/courses/{course['id']}/qbank-tests", json={"count": 1}, headers=student.headers
    )
    ids: dict[str, int] = {"user_id": student.id, "student_id": student.id}
    for table in (
        "courses",
        "chapters",
        "lessons",
        "access_requests",
        "enrollments",
        "notifications",
        "qbank_tests",
        "qbank_questions",
        "payments",
        "certificates",
        "events",
    ):
        found = await rows(world.db, f"SELECT id FROM {table} ORDER BY id")  # noqa: S608
        if found:
            ids[table] = found[0]["id"]
    return ids


def _ids_by_parameter(ids_by_table: dict[str, int], app: FastAPI) -> dict[str, int]:
    by_parameter = dict(ids_by_table)
    for _, _, op in operations(app):
        for param in op.get("parameters", []):
            name = param["name"]
            if name.endswith("_id") and name not in by_parameter:
                table = TABLE_OF.get(name, name[: -len("_id")] + "s")
                by_parameter[name] = ids_by_table.get(table, UNKNOWN_ID)
    return by_parameter


def _uses_ids(method: str, path: str, op: dict[str, Any]) -> bool:
    return any(p["in"] == "path" for p in op.get("parameters", [])) or (
        path == "/api/v1/admin/enrollments" and method == "POST"
    )


async def test_an_admin_gets_404_for_another_institutions_ids(
    world: World, client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    ids = _ids_by_parameter(await _institution_b(world, client), app)
    admin_a: Person = await world.admin("Alpha College")
    await world.course(admin_a, title="Alpha Course")
    spec = app.openapi()
    before = await row_counts(db)
    checked = []
    for method, path, op in operations(app):
        if not _uses_ids(method, path, op) or "{code}" in path:
            continue
        url, query, body = request_for(method, path, op, spec, ids)
        r = await client.request(method, url, params=query, json=body, headers=admin_a.headers)
        if r.status_code == 403 and not path.startswith("/api/v1/admin/"):
            # A learner-only action may refuse an admin by role; then it must do so for any id,
            # which tells nothing about B's rows.
            unknown = {name: UNKNOWN_ID for name in ids}
            url_unknown, query_unknown, body_unknown = request_for(method, path, op, spec, unknown)
            same = await client.request(
                method,
                url_unknown,
                params=query_unknown,
                json=body_unknown,
                headers=admin_a.headers,
            )
            assert same.status_code == 403, (method, path, same.text)
        else:
            assert r.status_code == 404, (method, url, body, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        checked.append((method, path))
    assert await row_counts(db) == before
    assert ("POST", "/api/v1/admin/access-requests/{request_id}/approve") in checked
    assert ("GET", "/api/v1/admin/students/{user_id}") in checked
    assert ("DELETE", "/api/v1/admin/users/{user_id}") in checked
    assert ("PATCH", "/api/v1/courses/{course_id}") in checked
    assert ("POST", "/api/v1/admin/enrollments") in checked


# Reads of what only a student has: an admin gets 403, as for any other student-only action.
STUDENTS_ONLY = {"/api/v1/me/profile"}
# Reads of something that exists once it has happened: 404 until then.
NOT_YET = {"/api/v1/admin/consistency", "/api/v1/admin/consistency/runs/latest"}


async def test_admin_lists_show_nothing_of_another_institution(
    world: World, client: httpx.AsyncClient, app: FastAPI
) -> None:
    ids = _ids_by_parameter(await _institution_b(world, client), app)
    admin_a = await world.admin("Alpha College")
    await world.student(admin_a.institution_slug, "Alpha Learner")
    spec = app.openapi()
    for method, path, op in operations(app):
        if method != "GET" or _uses_ids(method, path, op) or path == "/api/v1/stream":
            continue
        url, query, _ = request_for(method, path, op, spec, {})
        r = await client.get(url, headers=admin_a.headers)
        if path.startswith(PLATFORM):
            assert r.status_code == 403, (url, r.text)  # every institution's: platform admins'
            continue
        if path in STUDENTS_ONLY or path in NOT_YET:
            assert r.status_code == (403 if path in STUDENTS_ONLY else 404), (url, r.text)
            continue
        assert r.status_code == 200, (url, r.text)
        assert B_MARK not in r.text, (url, r.text)
        for name in query:
            foreign = await client.get(url, params={name: ids[name]}, headers=admin_a.headers)
            assert foreign.status_code in (200, 404), (url, name, foreign.text)
            assert B_MARK not in foreign.text, (url, name, foreign.text)


async def test_a_student_gets_403_from_every_admin_endpoint(
    world: World, client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    request = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    own = {
        "user_id": student.id,
        "course_id": course["id"],
        "request_id": request.json()["id"],
    }
    spec = app.openapi()
    before = await row_counts(db)
    admin_paths = [
        (m, p, op) for m, p, op in operations(app) if p.startswith(("/api/v1/admin/", PLATFORM))
    ]
    assert len(admin_paths) >= 10
    for method, path, op in admin_paths:
        url, query, body = request_for(method, path, op, spec, _ids_by_parameter(own, app))
        r = await client.request(method, url, params=query, json=body, headers=student.headers)
        assert r.status_code == 403, (method, url, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert await row_counts(db) == before
