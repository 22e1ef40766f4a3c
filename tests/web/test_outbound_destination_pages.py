"""An admin runs a webhook subscription and a learning record store from their pages in the
browser: add one, test its connection, replay, remove it."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import ADMIN_EMAIL, Visitors, assert_every_control_labelled

pytestmark = pytest.mark.browser

# Nothing listens on port 1: the connection test answers at once that it is not connected.
# Plain http on loopback, which the tests' settings allow (an https one would be refused as a
# private address).
NOWHERE = "http://127.0.0.1:1"


async def replay_and_remove(page: Page, card: str, confirm: str) -> None:
    """Replay the destination from the first event it may (the page shows itself again only
    when the replay is taken), then remove it, confirming."""
    start = page.locator(f"{card} input[name=from_event_id]")
    await start.fill(await start.get_attribute("max") or "1")
    async with page.expect_navigation():
        await page.locator(card).get_by_role("button", name="Replay").click()
    await page.locator(card).get_by_role("button", name=re.compile("^(Delete|Remove)$")).click()
    await page.get_by_role("button", name=confirm).click()
    await expect(page.locator(card)).to_have_count(0)


async def test_an_admin_subscribes_tests_replays_and_deletes_a_webhook(
    visitors: Visitors,
) -> None:
    page = await visitors.logged_in(ADMIN_EMAIL)
    await page.goto("/admin/webhooks")
    await assert_every_control_labelled(page)
    add = page.locator("#webhook-add")
    await add.get_by_label("Endpoint URL").fill(f"{NOWHERE}/hooks")
    await add.get_by_label("Description").fill("CRM sync")
    await add.get_by_label("course.created").check()
    await add.get_by_role("button", name="Subscribe").click()

    card = "article.webhook-subscription"
    await expect(page.locator(card)).to_contain_text("CRM sync")
    await assert_every_control_labelled(page)
    await page.locator(card).get_by_role("button", name="Test connection").click()
    await expect(page.locator(".webhook-test-result")).to_contain_text("Not connected")
    await replay_and_remove(page, card, "Delete subscription")
    await expect(page.get_by_text("No webhook subscription yet.")).to_be_visible()


async def test_an_admin_adds_tests_replays_and_removes_a_learning_record_store(
    visitors: Visitors,
) -> None:
    page = await visitors.logged_in(ADMIN_EMAIL)
    await page.goto("/admin/xapi")
    await assert_every_control_labelled(page)
    add = page.locator("#xapi-add")
    await add.get_by_label("Name").fill("Analytics")
    await add.get_by_label("xAPI endpoint").fill(f"{NOWHERE}/xAPI")
    await add.get_by_label("Key").fill("lectern")
    await add.get_by_label("Secret").fill("s3cret")
    await add.get_by_role("button", name="Add").click()

    card = "article.xapi-destination"
    await expect(page.locator(card)).to_contain_text("Analytics")
    await assert_every_control_labelled(page)
    await page.locator(card).get_by_role("button", name="Test connection").click()
    await expect(page.locator(".xapi-test-result")).to_contain_text("Not connected")
    await replay_and_remove(page, card, "Remove store")
    await expect(page.get_by_text("No learning record store yet.")).to_be_visible()
