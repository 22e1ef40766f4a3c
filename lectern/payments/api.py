"""The payments API: checkout, the Stripe webhook, refunds, and who paid for what."""

import httpx
from fastapi import Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

from lectern.models.enums import PaymentStatus
from lectern.payments import service
from lectern.payments.providers import (
    CheckoutOrder,
    PaymentProvider,
    ProviderError,
    RefundOrder,
    WebhookSink,
    provider_for,
)
from lectern.payments.schemas import (
    CheckoutOut,
    PaymentDetailOut,
    PaymentOut,
    ProviderEventOut,
    WebhookReceipt,
    payment_out,
)
from lectern.payments.service import course_page
from lectern.payments.stripe_events import verify_event
from lectern.payments.webhooks import receive_event
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor, current_actor, student_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import LecternError
from lectern.platform.keyset import next_link
from lectern.platform.openapi import answered_again
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router
from lectern.platform.schemas import Offset, PathId, QueryId, outputs

router = api_router(prefix="/api/v1", tags=["payments"])
WEBHOOK_PATH = "/api/v1/payments/webhooks/stripe"


class ProviderUnavailable(LecternError):
    status = 502
    title = "Payment provider unavailable"
    slug = "payment-provider-unavailable"


def get_payment_provider(request: Request) -> PaymentProvider:
    """The process's provider, built from the settings on first use."""
    provider: PaymentProvider | None = getattr(request.app.state, "payment_provider", None)
    if provider is None:
        provider = provider_for(request.app.state.settings, deliver_to(request.app))
        request.app.state.payment_provider = provider
    return provider


def deliver_to(app: ASGIApp) -> WebhookSink:
    """Post signed webhooks to this app's own endpoint, in process: the test provider's way."""

    async def deliver(body: bytes, signature: str) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lectern") as client:
            answer = await client.post(
                WEBHOOK_PATH,
                content=body,
                headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            )
        if answer.status_code != 200:
            raise ProviderError(f"The webhook was refused: {answer.text}")

    return deliver


@router.post(
    "/courses/{course_id}/checkout",
    response_model=CheckoutOut,
    status_code=201,
    responses=answered_again(CheckoutOut),
)
async def checkout(
    course_id: PathId,
    request: Request,
    response: Response,
    actor: Actor = Depends(student_actor),
    db: Database = Depends(get_database),
    provider: PaymentProvider = Depends(get_payment_provider),
) -> CheckoutOut:
    """Start paying for a course, or get back the checkout already started."""
    start = await db.run(lambda s: service.start_checkout(s, actor, course_id, provider.name))
    payment = start.payment
    if not payment.checkout_url:
        page = public_url(request) + course_page(start.course.id)
        order = CheckoutOrder(
            payment_id=payment.id,
            course_title=start.course.title,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            customer_email=actor.email,
            success_url=f"{page}?payment={payment.id}",
            cancel_url=f"{page}?payment=cancelled",
        )
        try:
            made = await provider.create_checkout(order)
        except ProviderError as exc:
            raise ProviderUnavailable(f"The checkout could not be created: {exc}") from exc
        payment = await db.run(lambda s: service.attach_checkout(s, order.payment_id, made))
    response.status_code = status.HTTP_201_CREATED if start.created else status.HTTP_200_OK
    return CheckoutOut(
        payment_id=payment.id, checkout_url=payment.checkout_url, status=payment.status
    )


@router.post(
    WEBHOOK_PATH.removeprefix("/api/v1"),
    response_model=WebhookReceipt,
    responses={400: {"description": "The Stripe-Signature header does not verify the body."}},
)
async def stripe_webhook(
    request: Request,
    db: Database = Depends(get_database),
    provider: PaymentProvider = Depends(get_payment_provider),
) -> WebhookReceipt:
    """Stripe's events (and the test provider's, in the same format), verified on the raw body."""
    event = verify_event(
        await request.body(), request.headers.get("stripe-signature"), provider.webhook_secret
    )
    outcome = await db.run(lambda s: receive_event(s, provider.name, event))
    return WebhookReceipt(received=True, outcome=outcome)


@router.get("/admin/payments", response_model=list[PaymentOut])
async def admin_payments(
    response: Response,
    course_id: QueryId = None,
    user_id: QueryId = None,
    status_filter: PaymentStatus | None = Query(None, alias="status"),
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
    cursor: str | None = Query(
        None, max_length=2000, description="The next page's cursor, from the Link header."
    ),
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> list[PaymentOut]:
    """A page of the institution's payments, newest first; when there are more, the `Link`
    header names the next page (`rel="next"`), which goes on from this page's last payment."""
    rows, next_cursor = await service.institution_payments(
        session,
        actor,
        course_id=course_id,
        user_id=user_id,
        status=status_filter,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    query = {"course_id": course_id, "user_id": user_id, "status": status_filter, "limit": limit}
    if link := next_link("/api/v1/admin/payments", query, next_cursor):
        response.headers["Link"] = link
    return outputs(PaymentOut, rows)


@router.get("/admin/payments/{payment_id}", response_model=PaymentDetailOut)
async def admin_payment(
    payment_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> PaymentDetailOut:
    row, events = await service.institution_payment(session, actor, payment_id)
    return PaymentDetailOut(
        **payment_out(row).model_dump(),
        provider_events=[ProviderEventOut.model_validate(event) for event in events],
    )


@router.post("/admin/payments/{payment_id}/refund", response_model=PaymentOut, status_code=202)
async def refund_payment(
    payment_id: PathId,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
    provider: PaymentProvider = Depends(get_payment_provider),
) -> PaymentOut:
    """Give a payment's money back; the provider's refund webhook then cancels the enrollment.

    Answers 202 with the payment as it stands: Stripe reports the refund a moment later.
    """
    async with db.session() as session:
        payment = await service.refundable_payment(session, actor, payment_id)
    if payment.status != PaymentStatus.REFUNDED:
        assert payment.payment_ref is not None
        order = RefundOrder(
            payment_id=payment.id,
            payment_ref=payment.payment_ref,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
        )
        try:
            await provider.refund(order)
        except ProviderError as exc:
            raise ProviderUnavailable(f"The refund could not be made: {exc}") from exc
    async with db.session() as session:
        row, _events = await service.institution_payment(session, actor, payment_id)
    return payment_out(row)


@router.get("/me/payments", response_model=list[PaymentOut])
async def my_payments(
    actor: Actor = Depends(current_actor), session: AsyncSession = Depends(read_session)
) -> list[PaymentOut]:
    return outputs(PaymentOut, await service.learner_payments(session, actor))


@router.get("/me/payments/{payment_id}", response_model=PaymentOut)
async def my_payment(
    payment_id: PathId,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> PaymentOut:
    return payment_out(await service.learner_payment(session, actor, payment_id))
