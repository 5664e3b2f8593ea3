"""Help: a short page per area, in French and English, linked from every page."""
