"""The application: routers, error handlers, and what lives as long as the process."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lectern.accounts.api import router as accounts_router
from lectern.accounts.ratelimit import LoginThrottle
from lectern.analytics.api import router as analytics_router
from lectern.config import Settings, get_settings
from lectern.courses.api import router as courses_router
from lectern.db import Database
from lectern.enrollments.api import router as enrollments_router
from lectern.notifications.api import router as notifications_router
from lectern.problems import install_problem_handlers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings)
        app.state.database = database
        app.state.settings = settings
        app.state.login_throttle = LoginThrottle(settings)
        try:
            yield
        finally:
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
    for router in (
        accounts_router,
        courses_router,
        enrollments_router,
        notifications_router,
        analytics_router,
    ):
        app.include_router(router)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
