from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from lectern.certificates import service
from lectern.certificates.fonts import certificate_fonts
from lectern.certificates.pdf import certificate_pdf
from lectern.certificates.schemas import CertificateOut
from lectern.models import Certificate
from lectern.platform.actor import Actor
from lectern.platform.auth import current_actor
from lectern.platform.config import Settings
from lectern.platform.db import read_session
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router

router = api_router(prefix="/api/v1", tags=["certificates"])


def _verify_url(request: Request, code: str) -> str:
    """The verification page a reader of the certificate opens (lectern.web.pages)."""
    return f"{public_url(request)}/verify/{code}"


def certificate_out(request: Request, certificate: Certificate) -> CertificateOut:
    return CertificateOut(
        code=certificate.code,
        user_id=certificate.user_id,
        course_id=certificate.course_id,
        learner_name=certificate.learner_name,
        course_title=certificate.course_title,
        issued_at=certificate.issued_at,
        verify_url=_verify_url(request, certificate.code),
        pdf_url=f"{public_url(request)}/api/v1/certificates/{certificate.code}.pdf",
    )


@router.get("/me/certificates", response_model=list[CertificateOut])
async def my_certificates(
    request: Request,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> list[CertificateOut]:
    return [certificate_out(request, c) for c in await service.my_certificates(session, actor.id)]


# Declared before the plain code route, which would otherwise take "CODE.pdf" as a code.
@router.get(
    "/certificates/{code}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def certificate_pdf_download(
    code: str, request: Request, session: AsyncSession = Depends(read_session)
) -> Response:
    """The certificate as a PDF; public, like the verification: the code is the secret."""
    certificate = await service.certificate_by_code(session, code)
    settings: Settings = request.app.state.settings
    pdf = await run_in_threadpool(
        certificate_pdf,
        certificate,
        _verify_url(request, code),
        certificate_fonts(settings.certificate_fonts),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{code}.pdf"'},
    )


@router.get("/certificates/{code}", response_model=CertificateOut)
async def verify_certificate(
    code: str, request: Request, session: AsyncSession = Depends(read_session)
) -> CertificateOut:
    """Public verification: anyone with the code sees whom it was issued to, for what, when."""
    return certificate_out(request, await service.certificate_by_code(session, code))
