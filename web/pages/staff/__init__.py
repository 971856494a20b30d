"""The staff side: sign-in, the agent console, the department workspace, supervisor boards, admin."""

from fastapi import APIRouter

from web.pages.staff import admin, auth, boards, console, events, work

router = APIRouter()
for module in (auth, console, work, boards, admin, events):
    router.include_router(module.router)
