"""The WSGI entry point: `flask --app wsgi ...` and any WSGI server use this app."""

from matchmaker.app import create_app

app = create_app()
