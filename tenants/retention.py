"""How long each kind of data is kept: every retention period of the product, in one place.

A period added anywhere is added here, with what it applies to and what happens at its end, so the privacy
policy's promises can be read against one page. (Cookie lifetimes are in ``blueprints/privacy/cookies.py``,
the registry the cookie policy is written from.)
"""

from __future__ import annotations

from datetime import timedelta

# An organization whose account holder never confirmed the email address is deleted, schema and all, this
# long after it signed up (a daily job).
UNCONFIRMED_ORGANIZATION = timedelta(days=7)

# A login (one signed-in browser) without "remember me" ends after this long without a request; its record is
# deleted by the daily purge. A remembered one lasts as long as its cookie (REMEMBER_LIFETIME).
LOGIN_IDLE = timedelta(hours=24)
# A staff login ends sooner: it opens every organization's directory.
STAFF_LOGIN_IDLE = timedelta(hours=12)

# Applied SMS delivery receipts are kept this long to refuse a replay (the gateway's own retries stop far
# sooner); older ones are deleted.
SMS_RECEIPTS = timedelta(days=30)

# One-time links (address confirmation, password reset, invitation) are kept this long past their expiry, so a
# late click hears "expired" rather than "unknown", then deleted (hourly).
ACCOUNT_TOKENS_PAST_EXPIRY = timedelta(days=7)

# A CSV upload of an import is usable for its preview this long; never confirmed, it is deleted after it
# (hourly, with an hour's margin).
IMPORT_UPLOAD = timedelta(hours=24)

# A file an export task made (attendance, audit trail) can be downloaded this long after the task finished,
# then it is deleted (hourly).
TASK_FILES = timedelta(days=7)

# Raw audience events are kept this many months (13, as the CNIL allows), then deleted once their days' figures
# are stored (daily).
AUDIENCE_RAW_EVENTS_MONTHS = 13

# Error reports (the platform's diagnostics, kept only when something broke) are kept this long, then deleted
# (daily) with the groups left without a report.
DIAGNOSTICS = timedelta(days=90)

# An organization that closed its account is dropped entirely (schema or file, blobs, platform rows but the
# billing record and the verification index) this many years after its end of service, whatever legal hold
# it recorded on evidence; its admins are warned this many days before.
END_OF_SERVICE_YEARS = 3
END_OF_SERVICE_WARNINGS_DAYS = (30, 7)

# An organization whose deletion its admins asked for is dropped this long after the request; any admin can
# undo it until then.
DELETION_GRACE = timedelta(days=7)
