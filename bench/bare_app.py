"""The box's limit for bench/load.py: a bare FastAPI application with one synchronous endpoint (run in
the thread pool, as most of CivicDesk's routes are) and one asynchronous one, served by uvicorn in its
own process exactly as the application is.

    .venv/bin/python -m uvicorn bench.bare_app:app --port 8199
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/sync")
def bare_sync() -> dict[str, bool]:
    return {"ok": True}


@app.get("/async")
async def bare_async() -> dict[str, bool]:
    return {"ok": True}
