"""Payment webhooks: completions applied per second through HTTP, against the raw writes.

Lectern side: one uvicorn process serves `POST /api/v1/payments/webhooks/stripe`; this process
posts signed `checkout.session.completed` events for distinct pending payments from several
clients at once. Each one is verified, stored once, locks its payment, completes it, enrolls
the learner, records the events and a notification, and commits before it is answered. Then
every event is delivered again: the duplicates are verified and found, and change nothing.

Baseline, in the same run: the same rows written straight to PostgreSQL by asyncpg, one
transaction per payment (webhook row, payment row locked and updated, enrollment upserted,
three events, a notification), over as many connections as there are HTTP clients. The
ratio (Lectern / raw) prices what the raw side leaves out: HTTP, the signature check, the
locks, the ORM, the learner's pending request closed, and the live-event pump that wakes on
every commit. Duplicates are compared with completions: a repeat must be far cheaper.

    .venv/bin/python bench/payments.py
"""

import asyncio
import json
import secrets
import time

import asyncpg
import httpx
import stripe
from harness import ScratchDatabase, lectern_server, scratch_database
from sqlalchemy import create_engine, text

WEBHOOK = "/api/v1/payments/webhooks/stripe"
PAYMENTS = 1500  # per side
CLIENTS = 8
PRICE = 4900


def seed(sync_url: str) -> tuple[list[int], list[int]]:
    """A paid course, one student per payment, and pending payments for Lectern and the raw side."""
    engine = create_engine(sync_url)
    with engine.begin() as c:
        institution = c.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at) "
                "VALUES ('Bench Academy', 'bench academy', 'bench', now()) RETURNING id"
            )
        ).scalar_one()
        course = c.execute(
            text(
                "INSERT INTO courses (institution_id, title, slug, description, status, access, "
                "price_cents, currency, qbank_required, qbank_pass_mark, created_at, updated_at) "
                "VALUES (:i, 'Paid', 'paid', '', 'published', 'paid', :p, 'usd', false, 0.7, "
                "now(), now()) RETURNING id"
            ),
            {"i": institution, "p": PRICE},
        ).scalar_one()
        users = list(
            c.execute(
                text(
                    "INSERT INTO users (institution_id, email, email_key, password_hash, "
                    "full_name, role, is_platform_admin, created_at) "
                    "SELECT :i, 'b' || g || '@bench.test', 'b' || g || '@bench.test', '-', "
                    "'Buyer ' || g, 'student', false, now() FROM generate_series(1, :n) g "
                    "RETURNING id"
                ),
                {"i": institution, "n": 2 * PAYMENTS},
            ).scalars()
        )
        c.execute(
            text(
                "INSERT INTO student_profiles (user_id, bio, languages, interests, created_at) "
                "SELECT unnest(CAST(:ids AS int[])), '', '[]', '[]', now()"
            ),
            {"ids": users},
        )
        payments = list(
            c.execute(
                text(
                    "INSERT INTO payments (institution_id, user_id, course_id, provider, "
                    "checkout_id, checkout_url, amount_cents, currency, status, flag_reason, "
                    "created_at, updated_at) "
                    "SELECT :i, u, :c, 'test', 'cs_bench_' || u, '', :p, 'usd', 'pending', '', "
                    "now(), now() FROM unnest(CAST(:ids AS int[])) u ORDER BY u RETURNING id"
                ),
                {"i": institution, "c": course, "p": PRICE, "ids": users},
            ).scalars()
        )
    engine.dispose()
    return payments[:PAYMENTS], payments[PAYMENTS:]


def completed_event(payment_id: int) -> bytes:
    return json.dumps(
        {
            "id": f"evt_bench_{payment_id}",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": f"cs_bench_{payment_id}",
                    "object": "checkout.session",
                    "client_reference_id": str(payment_id),
                    "amount_total": PRICE,
                    "currency": "usd",
                    "payment_status": "paid",
                    "payment_intent": f"pi_bench_{payment_id}",
                }
            },
        }
    ).encode()


async def http_rate(port: int, payment_ids: list[int], secret: str) -> tuple[float, list[str]]:
    """Deliveries per second, and each delivery's outcome."""
    queue = list(payment_ids)
    outcomes: list[str] = []

    async def client(http: httpx.AsyncClient) -> None:
        while queue:
            body = completed_event(queue.pop())
            header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)
            r = await http.post(
                WEBHOOK,
                content=body,
                headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            )
            r.raise_for_status()
            outcomes.append(r.json()["outcome"])

    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    return len(payment_ids) / elapsed, outcomes


RAW_COMPLETION = [
    (
        "INSERT INTO webhook_events (provider, external_id, type, payload, outcome, received_at) "
        "VALUES ('raw', $1, 'checkout.session.completed', $2::jsonb, 'completed', now()) "
        "ON CONFLICT DO NOTHING"
    ),
    "SELECT id, user_id, course_id FROM payments WHERE id = $1 FOR UPDATE",
    (
        "UPDATE payments SET status = 'completed', payment_ref = $2, completed_at = now(), "
        "updated_at = now() WHERE id = $1"
    ),
    (
        "INSERT INTO enrollments (user_id, course_id, status, source, progress, created_at, "
        "updated_at) SELECT user_id, course_id, 'active', 'payment', 0, now(), now() "
        "FROM payments WHERE id = $1 ON CONFLICT (user_id, course_id) DO NOTHING"
    ),
]


async def raw_rate(dsn: str, payment_ids: list[int]) -> float:
    queue = list(payment_ids)

    async def client(connection: asyncpg.Connection) -> None:
        while queue:
            payment_id = queue.pop()
            async with connection.transaction():
                await connection.execute(
                    RAW_COMPLETION[0],
                    f"evt_raw_{payment_id}",
                    completed_event(payment_id).decode(),
                )
                await connection.fetchrow(RAW_COMPLETION[1], payment_id)
                await connection.execute(RAW_COMPLETION[2], payment_id, f"pi_{payment_id}")
                await connection.execute(RAW_COMPLETION[3], payment_id)
                for kind in ("payment.completed", "enrollment.created", "notification.created"):
                    await connection.execute(
                        "INSERT INTO events (type, institution_id, user_id, audience, payload, "
                        "created_at) VALUES ($1, 1, NULL, 'both', '{}'::jsonb, now())",
                        kind,
                    )
                await connection.execute(
                    "INSERT INTO notifications (user_id, kind, title, body, link, created_at) "
                    "SELECT user_id, 'payment.completed', 'Paid', '', '', now() "
                    "FROM payments WHERE id = $1",
                    payment_id,
                )

    connections = [await asyncpg.connect(dsn) for _ in range(CLIENTS)]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in connections))
        elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
    return len(payment_ids) / elapsed


def main() -> None:
    with scratch_database("payments") as database:
        asyncio.run(measure(database))


async def measure(database: ScratchDatabase) -> None:
    # The test provider's secret is random in each process unless set: the server gets ours.
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    env = {"LECTERN_PAYMENT_PROVIDER": "test", "LECTERN_TEST_PAYMENT_WEBHOOK_SECRET": secret}
    with lectern_server(database.async_url, env=env) as server:
        port = server.port
        lectern_ids, raw_ids = seed(database.sync_url)
        await http_rate(port, lectern_ids[:50], secret)  # warm up the pool and caches
        completions, outcomes = await http_rate(port, lectern_ids[50:], secret)
        assert set(outcomes) == {"completed"}, set(outcomes)
        duplicates, outcomes = await http_rate(port, lectern_ids[50:], secret)
        assert set(outcomes) == {"duplicate"}, set(outcomes)
        raw = await raw_rate(database.dsn, raw_ids)
        print(f"{len(lectern_ids) - 50} payments, {CLIENTS} clients at once")
        print(
            f"completions: Lectern {completions:7,.0f}/s ({1e3 / completions:5.2f} ms each) | "
            f"raw writes {raw:7,.0f}/s ({1e3 / raw:5.2f} ms each) | ratio {completions / raw:.2f}"
        )
        print(
            f"duplicates:  Lectern {duplicates:7,.0f}/s ({1e3 / duplicates:5.2f} ms each) | "
            f"vs completions {duplicates / completions:.2f}x"
        )


if __name__ == "__main__":
    main()
