"""Support access: the organization's decision whether, and for how long, Emarge staff may see its pages."""
