"""The staff side: sign-in, the agent console, the department workspace, supervisor boards, admin."""

from fastapi import APIRouter

from web.pages.staff import admin, admin_city, admin_ioc, auth, boards, console, events, work

router = APIRouter()
for module in (auth, console, work, boards, admin, admin_ioc, admin_city, events):
    router.include_router(module.router)
