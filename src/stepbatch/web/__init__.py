"""`stepbatch web`: a live status page of the accounts (a local state folder or the cluster's database)."""

from stepbatch.web.app import WebSettings, create_app
from stepbatch.web.server import WebOptions, build_app, serve

__all__ = ["WebOptions", "WebSettings", "build_app", "create_app", "serve"]
