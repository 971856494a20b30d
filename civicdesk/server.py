"""The ASGI application for uvicorn: `uvicorn civicdesk.server:app`."""

import gc

from civicdesk.asgi import create_app
from civicdesk.observability.errors import init_error_tracking
from kernel.observability import logs

logs.configure()  # after uvicorn's own set-up: its loggers then go through ours
init_error_tracking("web")
app = create_app()
# What exists once the application is built (modules, classes, functions, templates: ~250,000 objects)
# lives as long as the process. Frozen, it is left out of the collector's full passes, which otherwise
# walk all of it and paused every request for 50-200 ms under load (issue 22: the webhook's p99).
gc.freeze()
