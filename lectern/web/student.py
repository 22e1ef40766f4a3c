"""The student app's pages; each renders a shell that its script fills from the API."""

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from lectern.platform.actor import Actor
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.web.rendering import render, student_page

router = api_router(prefix="/learn", include_in_schema=False)
SCRIPTS = ("student.js",)


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, actor: Actor = Depends(student_page)) -> HTMLResponse:
    return render(
        request,
        "student/dashboard.html",
        actor=actor,
        title="Dashboard",
        section="dashboard",
        scripts=SCRIPTS,
    )


@router.get("/catalog", response_class=HTMLResponse)
async def catalog(request: Request, actor: Actor = Depends(student_page)) -> HTMLResponse:
    return render(
        request,
        "student/catalog.html",
        actor=actor,
        title="Catalog",
        section="catalog",
        scripts=SCRIPTS,
    )


@router.get("/catalog/{course_id}", response_class=HTMLResponse)
async def course_details(
    request: Request, course_id: PathId, actor: Actor = Depends(student_page)
) -> HTMLResponse:
    return render(
        request,
        "student/course_details.html",
        actor=actor,
        title="Course details",
        section="catalog",
        scripts=SCRIPTS,
        data={"course-id": course_id},
    )


@router.get("/courses/{course_id}", response_class=HTMLResponse)
async def course_player(
    request: Request, course_id: PathId, actor: Actor = Depends(student_page)
) -> HTMLResponse:
    return render(
        request,
        "student/course.html",
        actor=actor,
        title="Course",
        section="dashboard",
        scripts=("student.js", "player.js"),
        data={"course-id": course_id},
    )


@router.get("/progress", response_class=HTMLResponse)
async def progress(request: Request, actor: Actor = Depends(student_page)) -> HTMLResponse:
    return render(
        request,
        "student/progress.html",
        actor=actor,
        title="Progress",
        section="progress",
        scripts=SCRIPTS,
    )


@router.get("/certificates", response_class=HTMLResponse)
async def certificates(request: Request, actor: Actor = Depends(student_page)) -> HTMLResponse:
    return render(
        request,
        "student/certificates.html",
        actor=actor,
        title="Certificates",
        section="certificates",
        scripts=SCRIPTS,
    )


@router.get("/notifications", response_class=HTMLResponse)
async def notifications(request: Request, actor: Actor = Depends(student_page)) -> HTMLResponse:
    return render(
        request,
        "student/notifications.html",
        actor=actor,
        title="Notifications",
        section="notifications",
        scripts=SCRIPTS,
    )
