"""How large a request may be: ``MAX_CONTENT_LENGTH`` for every page, a larger limit for a view that takes files.

Flask refuses a body larger than ``request.max_content_length`` with 413 as soon
as the form is read, which Flask-WTF's CSRF check does before any view runs; so
a view's own limit is set by a hook that runs before that check.
"""

from __future__ import annotations

from flask import Flask, request


def accepts_up_to(setting: str):
    """Let a view take request bodies of up to the configuration's ``setting`` bytes."""

    def mark(view):
        view.max_content_length_setting = setting
        return view

    return mark


def init_app(app: Flask) -> None:
    """Register the hook; before the CSRF check's (``create_app`` sees to the order)."""

    @app.before_request
    def view_limit() -> None:
        setting = getattr(app.view_functions.get(request.endpoint or ""), "max_content_length_setting", None)
        if setting is not None:
            request.max_content_length = app.config[setting]
