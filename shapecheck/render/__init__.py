"""Renderers: the only place that turns results into text (text, json, github, junit)."""
