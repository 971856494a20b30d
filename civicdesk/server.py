"""The ASGI application for uvicorn: `uvicorn civicdesk.server:app`."""

from civicdesk.asgi import create_app
from civicdesk.observability.errors import init_error_tracking
from kernel.observability import logs

logs.configure()  # after uvicorn's own set-up: its loggers then go through ours
init_error_tracking("web")
app = create_app()
