"""Signing: personal sign-in links, drawn signatures, in-room proof of presence, live attendance."""
