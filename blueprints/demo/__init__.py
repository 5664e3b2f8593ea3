"""The demo organization: ``flask demo`` (run by ``./dev run``) builds it through the areas' own services, so a
newcomer sees every feature with real data. An entry point like the app factory: it may use every area."""
