"""The breach register: security incidents recorded by platform admins, the 72-hour countdown from discovery,
and the notices each affected organization's admins receive by email and read and acknowledge in the app.

Append-only: an incident's first record is never changed, what is learnt later is an update (numbered), and
nothing is ever deleted, not even an incident that was not notified (its reason stays with it)."""
