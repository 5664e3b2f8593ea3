"""Sending email: SMTP when configured, else an outbox folder under instance/ (the embedded default)."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from contextlib import contextmanager
from email.message import Message
from email.utils import parseaddr

from flask import Flask

logger = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Try again later: the server was unreachable or answered 4xx."""


class PermanentFailure(Exception):
    """Do not try again: the server refused (5xx)."""


class ConnectionLost(TemporaryFailure):
    """The connection broke before the message was handed over: try again, on a new connection."""


class UncertainFailure(TemporaryFailure):
    """The connection broke or timed out after the message body was handed over: the server may have taken it.

    The messaging jobs do not retry it, so that nobody gets it twice: the message is marked "unknown" for a
    person to resend. (A TemporaryFailure for callers that do not tell the two apart.)
    """


class _Tracking:
    """Notes when a DATA command is issued: a failure after that point leaves the outcome uncertain."""

    in_data = False
    last_reply: tuple[int, bytes] | None = None

    def data(self, msg):
        self.in_data = True
        self.last_reply = super().data(msg)
        return self.last_reply


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTP_SSL(_Tracking, smtplib.SMTP_SSL):
    pass


class SMTPMailer:
    def __init__(self, app: Flask):
        c = app.config
        self.host, self.port = c["MAIL_SERVER"], c["MAIL_PORT"]
        self.use_tls, self.use_ssl = c["MAIL_USE_TLS"], c["MAIL_USE_SSL"]
        self.username, self.password = c["MAIL_USERNAME"], c["MAIL_PASSWORD"]
        self.timeout = c["MAIL_TIMEOUT"]
        self._smtp: smtplib.SMTP | None = None

    @contextmanager
    def connection(self):
        """One SMTP connection for a batch of messages."""
        try:
            if self.use_ssl:
                smtp = _SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = _SMTP(self.host, self.port, timeout=self.timeout)
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(f"cannot connect to {self.host}:{self.port}: {error}") from error
        self._smtp = smtp
        try:
            yield self
        finally:
            self._smtp = None
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def send(self, message: Message) -> str:
        self._smtp.in_data, self._smtp.last_reply = False, None
        try:
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, answer = next(iter(error.recipients.values()))
            if code == 421:  # the server is closing the connection
                raise ConnectionLost(f"{code} {answer!r}") from error
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {answer!r}") from error
        except smtplib.SMTPResponseException as error:
            if error.smtp_code == 421:  # the server is closing the connection
                raise ConnectionLost(f"{error.smtp_code} {error.smtp_error!r}") from error
            raise (PermanentFailure if error.smtp_code >= 500 else TemporaryFailure)(
                f"{error.smtp_code} {error.smtp_error!r}"
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            if self._smtp.in_data:
                raise UncertainFailure(
                    f"connection lost after the message was handed over: {error}"
                ) from error
            raise ConnectionLost(f"connection lost: {error}") from error
        if refused:
            raise PermanentFailure(repr(refused))
        if self._smtp.last_reply:
            code, reply = self._smtp.last_reply
            return f"{code} {reply.decode('utf-8', 'replace')}"
        return "250 accepted"


# The answer an outbox "delivery" leaves in the delivery log, followed by the file's name.
OUTBOX_ANSWER = "outbox: "


class OutboxMailer:
    """Writes each message to instance/outbox as a .eml file and logs where: nothing leaves the machine."""

    def __init__(self, app: Flask):
        self.folder = os.path.join(app.instance_path, "outbox")

    @contextmanager
    def connection(self):
        os.makedirs(self.folder, exist_ok=True)
        yield self

    def send(self, message: Message) -> str:
        _, address = parseaddr(str(message["To"]))
        name = f"{time.time():.6f}-{address}.eml".replace("/", "_").replace(" ", "_")
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            f.write(bytes(message))
        logger.warning("mail to %s written to %s", message["To"], path)
        # The log says where in words (messages/views.py): the file's name, never the server's path.
        return OUTBOX_ANSWER + name


def mailer(app: Flask):
    return SMTPMailer(app) if app.config.get("MAIL_SERVER") else OutboxMailer(app)
