"""The settings pages are tried as the trainings pages are: an organization, its admin signed in."""

from tests.trainings.conftest import acme, admin, client  # noqa: F401 - fixtures
