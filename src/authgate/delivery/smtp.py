"""Email over SMTP (aiosmtplib): STARTTLS per setting, implicit TLS on port 465."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from authgate.delivery.base import DeliveryError, Message


class SmtpChannel:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    async def send(self, message: Message) -> None:
        import aiosmtplib  # on the first mail: a worker that sends none never loads it (about 1 MB)

        implicit_tls = self.port == 465
        try:
            await aiosmtplib.send(
                self.build(message),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=implicit_tls,
                start_tls=False if implicit_tls else self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}"[:400]) from None
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP connection to {self.host}:{self.port} failed: {type(exc).__name__}") from None

    async def close(self) -> None:
        return None
