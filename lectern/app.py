"""The application: routers, error handlers, and what lives as long as the process."""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from lectern.accounts.api import router as accounts_router
from lectern.accounts.manage_api import router as account_management_router
from lectern.accounts.pages import router as account_pages_router
from lectern.accounts.ratelimit import LoginThrottle
from lectern.analytics.api import router as analytics_router
from lectern.analytics.course import router as course_analytics_router
from lectern.audit.api import router as audit_router
from lectern.audit.schedule import audit_rounds
from lectern.certificates.api import router as certificates_router
from lectern.courses.api import router as courses_router
from lectern.courses.content_api import router as content_router
from lectern.courses.images import router as course_images_router
from lectern.courses.media import router as media_router
from lectern.enrollments.api import router as enrollments_router
from lectern.enrollments.expiry import expiry_rounds
from lectern.importing.api import router as imports_router
from lectern.institutions.api import router as institutions_router
from lectern.learning.api import router as learning_router
from lectern.live.api import router as events_router
from lectern.live.metrics import router as metrics_router
from lectern.live.pump import EventPump
from lectern.live.response import quiet_cut_off_streams
from lectern.lti.api import pages as lti_protocol_pages
from lectern.lti.api import protocol as lti_protocol_router
from lectern.lti.api import router as lti_router
from lectern.lti.pages import pages as lti_pages_router
from lectern.lti.scores import on_scores_queued, subscribe_scores
from lectern.lti.worker import ScoreWorker
from lectern.mail.api import pages as mail_pages_router
from lectern.mail.api import router as mail_router
from lectern.mail.outbox import subscribe_mail
from lectern.mail.worker import MailWorker
from lectern.notifications.api import router as notifications_router
from lectern.oidc.api import router as oidc_router
from lectern.oidc.pages import router as oidc_pages_router
from lectern.oidc.sign_in import router as oidc_sign_in_router
from lectern.outbound.worker import outbound_rounds
from lectern.payments.api import router as payments_router
from lectern.payments.pages import router as payment_pages_router
from lectern.payments.providers import warn_if_payments_are_free
from lectern.platform.auth import (
    admin_actor,
    current_actor,
    optional_actor,
    platform_admin_actor,
    staff_actor,
    student_actor,
)
from lectern.platform.bodylimit import BodyLimit
from lectern.platform.config import Settings, get_settings
from lectern.platform.db import Database
from lectern.platform.openapi import install_problem_document
from lectern.platform.problems import install_problem_handlers
from lectern.platform.rounds import Rounds
from lectern.platform.routes import add_routes, api_router
from lectern.platform.storable import RefuseUnstorableText
from lectern.platform.unavailable import install_unavailable_handler
from lectern.qbank.api import router as qbank_router
from lectern.reports.api import router as reports_router
from lectern.rosters.api import IMPORT_PATH
from lectern.rosters.api import router as rosters_router
from lectern.staff.api import router as staff_router
from lectern.web.pages import install_web_apps
from lectern.webhooks.api import pages as webhooks_pages_router
from lectern.webhooks.api import router as webhooks_router
from lectern.webhooks.sending import WEBHOOKS
from lectern.xapi.api import pages as xapi_pages_router
from lectern.xapi.api import router as xapi_router
from lectern.xapi.delivery import XAPI


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warn_if_payments_are_free(settings)
        database = Database(settings)
        app.state.database = database
        app.state.settings = settings
        app.state.login_throttle = LoginThrottle(settings)
        event_pump = EventPump(
            database,
            queue_size=settings.stream_queue_size,
            ping_seconds=settings.stream_ping_seconds,
        )
        await event_pump.start()
        app.state.event_pump = event_pump
        lti_scores = ScoreWorker(database)
        stop_waking_lti = on_scores_queued(database, lti_scores.rounds.wake)
        background = _start_background(database, settings, lti_scores.rounds)
        # What startup built (modules, routes, schemas, compiled statements) lives as long as
        # the process: frozen, no garbage collection walks it again. A request frees nearly all
        # it allocates by reference counting; collecting every 700 allocations cost a page of
        # 100 rows some 0.3 ms, every 50,000 next to nothing.
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(50_000, 20, 100)
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            stop_waking_lti()
            await asyncio.gather(*(rounds.stop() for rounds in background))
            await event_pump.stop()
            await database.dispose()

    app = FastAPI(
        title="Lectern",
        version="0.1.0",
        summary="A learning management system core: one fact in one place, every change live.",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_problem_handlers(app)
    install_unavailable_handler(app)
    app.add_middleware(RefuseUnstorableText)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger={IMPORT_PATH: settings.max_roster_bytes},
    )
    quiet_cut_off_streams()
    subscribe_mail()
    subscribe_scores()
    for router in (
        accounts_router,
        account_management_router,
        mail_router,
        mail_pages_router,
        account_pages_router,
        courses_router,
        enrollments_router,
        notifications_router,
        analytics_router,
        course_analytics_router,
        audit_router,
        imports_router,
        content_router,
        course_images_router,
        staff_router,
        learning_router,
        qbank_router,
        certificates_router,
        events_router,
        metrics_router,
        payments_router,
        payment_pages_router,
        institutions_router,
        rosters_router,
        reports_router,
        webhooks_router,
        webhooks_pages_router,
        xapi_router,
        xapi_pages_router,
        oidc_router,
        oidc_sign_in_router,
        oidc_pages_router,
        lti_router,
        lti_protocol_router,
        lti_protocol_pages,
        lti_pages_router,
    ):
        add_routes(app, router)
    install_web_apps(app)
    # Lesson media (the demo video), served only to those who may see the lessons.
    add_routes(app, media_router)

    add_routes(app, _ops_router())
    install_problem_document(
        app,
        authenticated_by=(
            optional_actor,
            current_actor,
            admin_actor,
            staff_actor,
            student_actor,
            platform_admin_actor,
        ),
    )
    return app


def _start_background(database: Database, settings: Settings, lti_scores: Rounds) -> list[Rounds]:
    """The process's timed jobs and its workers, started."""
    background = [
        lti_scores,
        audit_rounds(database, settings.audit_interval_seconds),
        expiry_rounds(database, settings.expiry_interval_seconds, settings.expiry_notice_days),
    ]
    if settings.smtp_host:  # without one, the outbox is read on the admins' Mail page instead
        mail = MailWorker(database, settings)
        database.on_events_committed(mail.rounds.wake)
        background.append(mail.rounds)
    if settings.xapi_worker:
        background.append(outbound_rounds(database, settings, XAPI))
    if settings.webhooks_worker:
        background.append(outbound_rounds(database, settings, WEBHOOKS))
    return [rounds.start() for rounds in background]


def _ops_router() -> APIRouter:
    router = api_router(tags=["ops"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return router
