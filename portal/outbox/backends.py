"""How the worker delivers a message, chosen by MAIL_BACKEND.

- `outbox` (development and tests): delivering only marks the row sent; the mail stays in the
  table and is read on the development mail page (/dev/mail). Production refuses it.
- `smtp`: the standard library's smtplib and `email.message.EmailMessage`, UTF-8 (subject as an
  encoded word, body and attachments base64 with CRLF line ends), STARTTLS and login when
  configured. The Message-ID is derived from the outbox id, so a message sent twice (a worker
  died after sending) is recognisable as one by the recipient's mail software.

Errors become DeliveryError with the exception class and SMTP code only: a server's reply text
may quote the address.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from portal.clock import TOKYO
from portal.outbox.service import Backend, DeliveryError, Outgoing

SMTP_TIMEOUT_SECONDS = 20


class OutboxBackend:
    """Keeps mail in the outbox table (development and tests)."""

    id = "outbox"

    def send(self, message: Outgoing, *, now: dt.datetime) -> None:
        # The row itself is the delivered mail: the service marks it sent.
        return None


class SmtpBackend:
    """Sends through an SMTP server (submission port with STARTTLS in production)."""

    id = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = SMTP_TIMEOUT_SECONDS,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpBackend(host={self.host!r}, port={self.port}, starttls={self.starttls})"

    def build(self, message: Outgoing, *, now: dt.datetime) -> EmailMessage:
        """The MIME message: text/plain body and each attachment with its content type."""
        email = EmailMessage(policy=policy.SMTP)
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = format_datetime(now.astimezone(TOKYO))
        email["Message-ID"] = _message_id(message, self.sender)
        # RFC 3834: an automatic message; vacation responders do not answer it.
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.body, charset="utf-8", cte="base64")
        for attachment in message.attachments:
            maintype, subtype, params = _content_type(attachment.content_type)
            if maintype == "text":
                email.add_attachment(
                    attachment.content,
                    subtype=subtype,
                    charset="utf-8",
                    cte="base64",
                    filename=attachment.filename,
                    params=params,
                )
            else:
                email.add_attachment(
                    attachment.content.encode("utf-8"),
                    maintype=maintype,
                    subtype=subtype,
                    filename=attachment.filename,
                    params=params,
                )
        return email

    def send(self, message: Outgoing, *, now: dt.datetime) -> None:
        email = self.build(message, now=now)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted(code for code, _reply in error.recipients.values())
            permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            raise DeliveryError(
                f"SMTPRecipientsRefused {codes[0] if codes else ''}".strip(), permanent=permanent
            ) from None
        except smtplib.SMTPDataError as error:  # the server refused this message's content
            raise DeliveryError(
                f"SMTPDataError {error.smtp_code}", permanent=500 <= error.smtp_code < 600
            ) from None
        except smtplib.SMTPResponseException as error:  # sender refused, login failed, ...
            raise DeliveryError(f"{type(error).__name__} {error.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as error:  # connection refused, timeout, TLS
            raise DeliveryError(type(error).__name__) from None


def backend_from_config(config) -> Backend:
    """The backend named by MAIL_BACKEND (config validation has refused unknown names)."""
    name = config["MAIL_BACKEND"]
    if name == "outbox":
        return OutboxBackend()
    if name == "smtp":
        return SmtpBackend(
            host=config["MAIL_SMTP_HOST"],
            port=int(config["MAIL_SMTP_PORT"]),
            sender=config["MAIL_FROM"],
            username=config.get("MAIL_SMTP_USERNAME") or None,
            password=config.get("MAIL_SMTP_PASSWORD") or None,
            starttls=bool(config["MAIL_SMTP_STARTTLS"]),
        )
    raise ValueError(f"MAIL_BACKEND must be outbox or smtp, not {name!r}")


def _message_id(message: Outgoing, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    created = message.created_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"<outbox-{message.id}-{created}@{domain}>"


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """ "text/calendar; method=PUBLISH" -> ("text", "calendar", {"method": "PUBLISH"})."""
    kind, *parameters = (part.strip() for part in value.split(";"))
    maintype, _, subtype = kind.partition("/")
    params = {}
    for parameter in parameters:
        name, _, param_value = parameter.partition("=")
        if name and name.lower() != "charset":  # text is always sent as UTF-8
            params[name.lower()] = param_value.strip('"')
    return maintype.lower(), subtype.lower(), params
