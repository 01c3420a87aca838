"""One contract every channel passes: a message sent arrives whole at its receiver (and the
log channel writes that it went out, never what it said); a receiver that is down or refuses
gives DeliveryError, never another exception."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from authgate.delivery.base import EMAIL, SMS, Channel, DeliveryError, Message
from authgate.delivery.log import LogChannel
from authgate.delivery.sms_http import SmsWebhookChannel
from authgate.delivery.smtp import SmtpChannel
from authgate.delivery.templates import render
from tests.support.mail import Mailbox
from tests.support.server import free_port
from tests.support.sms import SmsReceiver

SECRET_LINK = "https://auth.example/password/reset/SECRET-TOKEN-abc123"


def sample(channel: str, to: str) -> Message:
    return (
        render(
            "reset_password", channel=EMAIL, to=to, app="auth.example", link=SECRET_LINK, email=to, lifetime="1 hour"
        )
        if channel == EMAIL
        else render(
            "otp_code",
            channel=SMS,
            to=to,
            app="auth.example",
            code="493817",
            purpose="to sign in",
            lifetime="10 minutes",
        )
    )


@dataclass
class Harness:
    channel: Channel
    message: Message
    received: Callable[[], Awaitable[str]]  # what arrived (text), waiting for it


@pytest.fixture(params=["smtp", "sms_http", "log"])
async def harness(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> AsyncIterator[Harness]:
    kind = request.param
    if kind == "smtp":
        box = Mailbox()
        box.start()
        channel: Channel = SmtpChannel(host="127.0.0.1", port=box.port, sender="auth@auth.example", starttls=False)
        message = sample(EMAIL, "ada@example.com")

        async def mail() -> str:
            got = await box.wait_for("ada@example.com")
            assert got["Subject"] == message.subject and got["From"] == "auth@auth.example"
            html = got.get_body(("html",))
            assert html is not None and SECRET_LINK in html.get_content()
            text = got.get_body(("plain",))
            assert text is not None
            return str(text.get_content()).replace("\r\n", "\n")

        yield Harness(channel, message, mail)
        box.stop()
    elif kind == "sms_http":
        receiver = SmsReceiver()
        receiver.start()
        channel = SmsWebhookChannel(url=receiver.url)
        message = sample(SMS, "+14155550100")

        async def text_message() -> str:
            body = await receiver.wait_for("+14155550100")
            assert receiver.received[0]["content_type"] == "application/json"
            return body

        yield Harness(channel, message, text_message)
        await channel.close()
        receiver.stop()
    else:
        channel = LogChannel(EMAIL)
        message = sample(EMAIL, "ada@example.com")

        async def logged() -> str:
            out = capsys.readouterr().out
            assert "message_logged" in out and "a***@example.com" in out
            assert SECRET_LINK not in out and "SECRET-TOKEN" not in out  # the body never reaches the log
            return message.text

        yield Harness(channel, message, logged)


async def test_a_sent_message_arrives_whole(harness: Harness) -> None:
    await harness.channel.send(harness.message)
    arrived = await harness.received()
    assert arrived.strip() == harness.message.text.strip()


def dead(kind: str) -> tuple[Channel, Message]:
    """A channel aimed at a loopback port nothing listens on."""
    if kind == "smtp":
        smtp = SmtpChannel(host="127.0.0.1", port=free_port(), sender="a@b.example", starttls=False, timeout=2)
        return smtp, sample(EMAIL, "ada@example.com")
    return SmsWebhookChannel(url=f"http://127.0.0.1:{free_port()}/"), sample(SMS, "+14155550100")


@pytest.mark.parametrize("kind", ["smtp", "sms_http"])
async def test_a_dead_receiver_raises_delivery_error(kind: str) -> None:
    channel, message = dead(kind)
    with pytest.raises(DeliveryError) as caught:
        await channel.send(message)
    assert "SECRET" not in str(caught.value) and "493817" not in str(caught.value)
    await channel.close()


async def test_a_refusing_webhook_raises_delivery_error() -> None:
    receiver = SmsReceiver()
    receiver.start()
    receiver.fail = 1
    channel = SmsWebhookChannel(url=receiver.url + "?key=provider-secret")
    try:
        with pytest.raises(DeliveryError) as caught:
            await channel.send(sample(SMS, "+14155550100"))
        assert "500" in str(caught.value) and "provider-secret" not in str(caught.value)
    finally:
        await channel.close()
        receiver.stop()


@pytest.mark.parametrize("kind", ["verify_email", "reset_password", "magic_link", "otp_code", "welcome"])
def test_every_email_template_renders_and_escapes(kind: str) -> None:
    hostile = '"><script>alert(1)</script>'
    message = render(
        kind,
        channel=EMAIL,
        to="ada@example.com",
        app="auth.example",
        link="https://auth.example/x?a=1&b=" + hostile,
        email=hostile + "@example.com",
        code="012345",
        purpose="to sign in",
        lifetime="10 minutes",
    )
    assert message.html is not None and "<script>" not in message.html
    assert "&lt;script&gt;" in message.html or kind == "otp_code"
    assert message.subject and message.text


def test_sms_template_renders() -> None:
    message = sample(SMS, "+14155550100")
    assert "493817" in message.text and message.html is None and len(message.text) <= 160
