"""A real SMTP server (aiosmtpd) for the mail tests, and a worker that sends through it."""

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from lectern.mail.worker import MailWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.conftest import free_port


class Mailbox:
    """What the server accepted; it answers `refusals` (e.g. "451 …") to the next messages."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refusals:
            return self.refusals.pop(0)
        received = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(received, EmailMessage)
        self.messages.append(received)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def worker(db: Database, settings: Settings, mailbox: Mailbox) -> MailWorker:
    smtp = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,  # type: ignore[attr-defined]
            "smtp_starttls": False,
        }
    )
    return MailWorker(db, smtp)
