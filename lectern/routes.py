"""Putting routers' routes into the app."""

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes, added to the app's own list. Since FastAPI 0.137, an included router
    stays one node, and every request re-matches the routes behind it through a per-route scope
    dance that costs microseconds a route, twice. Each router here carries its prefix, tags and
    dependencies in its routes already, so adding them flat is what including them used to do."""
    app.router.routes.extend(router.routes)
