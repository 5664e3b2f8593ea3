"""Diagnostics: what the product keeps of its own malfunctions (an unhandled error in a request or a job), scrubbed
of personal data, grouped by fingerprint, for staff to read; nothing is collected while things work."""
