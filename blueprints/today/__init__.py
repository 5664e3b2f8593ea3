"""Today: the home page of an organization's staff."""
