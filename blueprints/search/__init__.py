"""Search across the app, from the header: participants, trainings, sessions, and users for admins."""
