"""WSGI entry point for production servers: `server.wsgi:app`, configured by KG_* environment variables."""

from server import create_app

app = create_app()
