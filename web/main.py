"""The ASGI application for uvicorn: `uvicorn web.main:app`."""

from civicdesk.observability import logs
from civicdesk.observability.errors import init_error_tracking
from web.app import create_app

logs.configure()  # after uvicorn's own set-up: its loggers then go through ours
init_error_tracking("web")
app = create_app()
