"""The admin app's pages; each renders a shell that its script fills from the API."""

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from lectern.models.enums import EnrollmentStatus, PaymentStatus
from lectern.platform.actor import Actor
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.web.assets import PLOTLY_URL
from lectern.web.rendering import admin_page, render, staff_page

router = api_router(prefix="/admin", include_in_schema=False)
SCRIPTS = ("admin.js",)
CHART_SCRIPTS = (PLOTLY_URL, "admin.js")


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, actor: Actor = Depends(admin_page)) -> HTMLResponse:
    return render(
        request,
        "admin/dashboard.html",
        actor=actor,
        title="Admin dashboard",
        section="dashboard",
        scripts=CHART_SCRIPTS,
    )


@router.get("/requests", response_class=HTMLResponse)
async def requests(request: Request, actor: Actor = Depends(staff_page)) -> HTMLResponse:
    return render(
        request,
        "admin/requests.html",
        actor=actor,
        title="Access requests",
        section="requests",
        scripts=SCRIPTS,
    )


@router.get("/imports", response_class=HTMLResponse)
async def imports(request: Request, actor: Actor = Depends(admin_page)) -> HTMLResponse:
    return render(
        request,
        "admin/imports.html",
        actor=actor,
        title="Imports",
        section="imports",
        scripts=("imports.js",),
    )


@router.get("/consistency", response_class=HTMLResponse)
async def consistency(request: Request, actor: Actor = Depends(admin_page)) -> HTMLResponse:
    return render(
        request,
        "admin/consistency.html",
        actor=actor,
        title="Consistency",
        section="consistency",
        scripts=("consistency.js",),
    )


@router.get("/roster", response_class=HTMLResponse)
async def roster(request: Request, actor: Actor = Depends(admin_page)) -> HTMLResponse:
    return render(
        request,
        "admin/roster.html",
        actor=actor,
        title="Enroll from a file",
        section="roster",
        scripts=("roster.js",),
    )


# The downloads on the reports page: (key, title, API path, statuses to filter by).
REPORTS = (
    ("enrollments", "Enrollments with progress", "/api/v1/admin/reports/enrollments",
     tuple(EnrollmentStatus)),
    ("gradebook", "A course's gradebook", "/api/v1/admin/reports/courses/{course_id}/gradebook",
     tuple(EnrollmentStatus)),
    ("payments", "Payments", "/api/v1/admin/reports/payments", tuple(PaymentStatus)),
    ("certificates", "Certificates", "/api/v1/admin/reports/certificates", ()),
)  # fmt: skip


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, actor: Actor = Depends(admin_page)) -> HTMLResponse:
    return render(
        request,
        "admin/reports.html",
        actor=actor,
        title="Reports",
        section="reports",
        scripts=("reports.js",),
        reports=[
            {
                "key": key,
                "title": title,
                "action": action,
                "statuses": [status.value for status in statuses],
                "course_required": key == "gradebook",
            }
            for key, title, action, statuses in REPORTS
        ],
    )


@router.get("/students", response_class=HTMLResponse)
async def students(request: Request, actor: Actor = Depends(admin_page)) -> HTMLResponse:
    return render(
        request,
        "admin/students.html",
        actor=actor,
        title="Students",
        section="students",
        scripts=SCRIPTS,
    )


@router.get("/students/{user_id}", response_class=HTMLResponse)
async def student(
    request: Request, user_id: PathId, actor: Actor = Depends(admin_page)
) -> HTMLResponse:
    return render(
        request,
        "admin/student.html",
        actor=actor,
        title="Student",
        section="students",
        scripts=SCRIPTS,
        data={"user-id": user_id},
    )


@router.get("/courses", response_class=HTMLResponse)
async def courses(request: Request, actor: Actor = Depends(staff_page)) -> HTMLResponse:
    return render(
        request,
        "admin/courses.html",
        actor=actor,
        title="Courses",
        section="courses",
        scripts=SCRIPTS,
    )


@router.get("/courses/{course_id}", response_class=HTMLResponse)
async def course_editor(
    request: Request, course_id: PathId, actor: Actor = Depends(staff_page)
) -> HTMLResponse:
    return render(
        request,
        "admin/course.html",
        actor=actor,
        title="Edit course",
        section="courses",
        scripts=("editor.js",),
        data={"course-id": course_id},
    )


@router.get("/courses/{course_id}/analytics", response_class=HTMLResponse)
async def course_analytics(
    request: Request, course_id: PathId, actor: Actor = Depends(staff_page)
) -> HTMLResponse:
    return render(
        request,
        "admin/analytics.html",
        actor=actor,
        title="Course analytics",
        section="courses",
        scripts=CHART_SCRIPTS,
        data={"course-id": course_id},
    )
