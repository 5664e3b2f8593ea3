"""The public site's privacy layer: policies, sub-processors, cookie consent and first-party audience measurement."""
