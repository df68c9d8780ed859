"""WSGI entry point (`flask` finds it in the project root; gunicorn can use `wsgi:app`)."""

from portal import create_app

app = create_app()
