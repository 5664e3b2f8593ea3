"""The changelog: what changed in the service, written by staff in French and English, published on a public
page and an Atom feed. Its bodies are Markdown, rendered through an allow-list sanitizer (``rendering``)."""
