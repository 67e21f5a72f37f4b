"""WSGI entry point for production servers: `server.wsgi:app`, configured by KG_* environment variables."""

import os

from kg.serve.sandbox import die_with_parent
from server import create_app

if os.environ.get("KG_ZYGOTE"):  # a worker of `kg serve`: it goes when the server does, even on `kill -9`
    die_with_parent()
app = create_app()
