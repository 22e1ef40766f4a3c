"""The test provider's checkout page, served by Lectern in place of Stripe's.

Only the learner who started a checkout sees it and can act on it: anyone else is told no such
checkout exists. "Pay" and "Cancel" post from the page's script with the session's CSRF token,
like every other cookie request. "Pay" posts a signed `checkout.session.completed` to Lectern's
own webhook endpoint, in process, so it passes the same verification as Stripe's events.
"""

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from lectern.models import Course, Payment
from lectern.models.enums import PaymentStatus
from lectern.payments.api import ProviderUnavailable, get_payment_provider
from lectern.payments.providers import (
    TEST_CHECKOUT_PATH,
    PaymentProvider,
    ProviderError,
    TestProvider,
)
from lectern.payments.service import course_page
from lectern.platform.actor import Actor
from lectern.platform.auth import current_actor
from lectern.platform.db import Database, get_database
from lectern.platform.errors import NotFound
from lectern.platform.routes import api_router
from lectern.web.rendering import CONTENT_SECURITY_POLICY, page_actor, redirect

router = api_router(prefix=TEST_CHECKOUT_PATH.rstrip("/"), include_in_schema=False)
templates = Environment(
    loader=PackageLoader("lectern.payments"), autoescape=select_autoescape(), enable_async=False
)


def require_test_provider(
    provider: PaymentProvider = Depends(get_payment_provider),
) -> TestProvider:
    if not isinstance(provider, TestProvider):
        raise NotFound("Checkout pages are served only by the test payment provider.")
    return provider


async def _buyers_checkout(db: Database, checkout_id: str, buyer: Actor) -> tuple[Payment, Course]:
    """The checkout and its course, if `buyer` started it; to anyone else it does not exist."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(Payment, Course)
                .join(Course, Course.id == Payment.course_id)
                .where(
                    Payment.provider == TestProvider.name,
                    Payment.checkout_id == checkout_id,
                    Payment.user_id == buyer.id,
                )
            )
        ).first()
    if row is None:
        raise NotFound("No such checkout.")
    payment, course = row
    return payment, course


def _amount(payment: Payment) -> str:
    return f"{payment.amount_cents / 100:,.2f} {payment.currency.upper()}"


@router.get("/{checkout_id}", response_model=None)
async def checkout_page(
    checkout_id: str,
    request: Request,
    db: Database = Depends(get_database),
    _provider: TestProvider = Depends(require_test_provider),
) -> Response:
    buyer = await page_actor(request)
    if buyer is None:
        return redirect(f"/login?next={request.url.path}")
    payment, course = await _buyers_checkout(db, checkout_id, buyer)
    page = templates.get_template("test_checkout.html").render(
        course_title=course.title,
        amount=_amount(payment),
        status=payment.status,
        pay_action=f"{TEST_CHECKOUT_PATH}{checkout_id}/pay",
        cancel_action=f"{TEST_CHECKOUT_PATH}{checkout_id}/cancel",
        course_url=course_page(course.id),
    )
    return HTMLResponse(
        page,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/{checkout_id}/pay")
async def pay(
    checkout_id: str,
    buyer: Actor = Depends(current_actor),
    db: Database = Depends(get_database),
    provider: TestProvider = Depends(require_test_provider),
) -> RedirectResponse:
    """Pay as the learner would on Stripe: the webhook follows, then the way back."""
    payment, course = await _buyers_checkout(db, checkout_id, buyer)
    if payment.status == PaymentStatus.PENDING:
        try:
            await provider.pay(payment)
        except ProviderError as exc:
            raise ProviderUnavailable(str(exc)) from exc
    return RedirectResponse(f"{course_page(course.id)}?payment={payment.id}", status_code=303)


@router.post("/{checkout_id}/cancel")
async def cancel(
    checkout_id: str,
    buyer: Actor = Depends(current_actor),
    db: Database = Depends(get_database),
    _provider: TestProvider = Depends(require_test_provider),
) -> RedirectResponse:
    """Leave the checkout as Stripe's cancel link does: nothing happens, the payment waits."""
    _payment, course = await _buyers_checkout(db, checkout_id, buyer)
    return RedirectResponse(f"{course_page(course.id)}?payment=cancelled", status_code=303)
