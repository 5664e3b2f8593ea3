"""Sending email: SMTP when configured, else an outbox folder under instance/ (the embedded default)."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from contextlib import contextmanager
from email.message import EmailMessage

from flask import Flask

logger = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Try again later: the server was unreachable or answered 4xx."""


class PermanentFailure(Exception):
    """Do not try again: the server refused (5xx)."""


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
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
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

    def send(self, message: EmailMessage) -> str:
        try:
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, answer = next(iter(error.recipients.values()))
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {answer!r}") from error
        except smtplib.SMTPResponseException as error:
            raise (PermanentFailure if error.smtp_code >= 500 else TemporaryFailure)(
                f"{error.smtp_code} {error.smtp_error!r}"
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(str(error)) from error
        if refused:
            raise PermanentFailure(repr(refused))
        return "250 accepted"


class OutboxMailer:
    """Writes each message to instance/outbox as a .eml file and logs where: nothing leaves the machine."""

    def __init__(self, app: Flask):
        self.folder = os.path.join(app.instance_path, "outbox")

    @contextmanager
    def connection(self):
        os.makedirs(self.folder, exist_ok=True)
        yield self

    def send(self, message: EmailMessage) -> str:
        name = f"{time.time():.6f}-{message['To']}.eml".replace("/", "_").replace(" ", "_")
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            f.write(bytes(message))
        logger.warning("mail to %s written to %s", message["To"], path)
        return f"written to {path}"


def mailer(app: Flask):
    return SMTPMailer(app) if app.config.get("MAIL_SERVER") else OutboxMailer(app)
