"""The test provider's checkout page, served by Lectern in place of Stripe's.

Like Stripe's hosted page it is reached by its unguessable checkout id, not by login, so its
forms need no CSRF token. "Pay" posts a signed `checkout.session.completed` to Lectern's own
webhook endpoint, in process, so it passes the same verification as Stripe's events.
"""

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from lectern.db import Database, get_database
from lectern.errors import NotFound
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
from lectern.routes import api_router

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


async def _checkout(db: Database, checkout_id: str) -> tuple[Payment, Course]:
    async with db.session() as session:
        row = (
            await session.execute(
                select(Payment, Course)
                .join(Course, Course.id == Payment.course_id)
                .where(Payment.provider == TestProvider.name, Payment.checkout_id == checkout_id)
            )
        ).first()
    if row is None:
        raise NotFound("No such checkout.")
    payment, course = row
    return payment, course


def _amount(payment: Payment) -> str:
    return f"{payment.amount_cents / 100:,.2f} {payment.currency.upper()}"


@router.get("/{checkout_id}", response_class=HTMLResponse)
async def checkout_page(
    checkout_id: str,
    db: Database = Depends(get_database),
    _provider: TestProvider = Depends(require_test_provider),
) -> HTMLResponse:
    payment, course = await _checkout(db, checkout_id)
    page = templates.get_template("test_checkout.html").render(
        course_title=course.title,
        amount=_amount(payment),
        status=payment.status,
        pay_action=f"{TEST_CHECKOUT_PATH}{checkout_id}/pay",
        cancel_action=f"{TEST_CHECKOUT_PATH}{checkout_id}/cancel",
        course_url=course_page(course.id),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/{checkout_id}/pay")
async def pay(
    checkout_id: str,
    db: Database = Depends(get_database),
    provider: TestProvider = Depends(require_test_provider),
) -> RedirectResponse:
    """Pay as the learner would on Stripe: the webhook follows, then the way back."""
    payment, course = await _checkout(db, checkout_id)
    if payment.status == PaymentStatus.PENDING:
        try:
            await provider.pay(payment)
        except ProviderError as exc:
            raise ProviderUnavailable(str(exc)) from exc
    return RedirectResponse(f"{course_page(course.id)}?payment={payment.id}", status_code=303)


@router.post("/{checkout_id}/cancel")
async def cancel(
    checkout_id: str,
    db: Database = Depends(get_database),
    _provider: TestProvider = Depends(require_test_provider),
) -> RedirectResponse:
    """Leave the checkout as Stripe's cancel link does: nothing happens, the payment waits."""
    _payment, course = await _checkout(db, checkout_id)
    return RedirectResponse(f"{course_page(course.id)}?payment=cancelled", status_code=303)
