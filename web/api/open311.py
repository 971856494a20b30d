"""/open311/v2: Open311 GeoReport v2 in JSON and XML; /api/v1/open311/clients for administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from kernel.city import hotline_display
from kernel.errors import DomainError, NotFound
from kernel.text import CleanInput, RowId
from open311 import service, xml
from open311.schemas import ClientOut, NewClientOut
from tickets import permissions
from web.deps import CurrentUser, SessionDep, StoreDep, end_transaction

router = APIRouter(prefix="/open311/v2", tags=["open311"])
admin_router = APIRouter(prefix="/api/v1/open311/clients", tags=["open311"])
FORMATS = {"json", "xml"}


def reply(
    fmt: str, root: str, value: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    if fmt == "xml":
        return Response(
            xml.render(root, value),
            status_code=status_code,
            media_type="text/xml; charset=utf-8",
            headers=headers,
        )
    return JSONResponse(
        value, status_code=status_code, media_type="application/json; charset=utf-8", headers=headers
    )


def error_reply(fmt: str, problem: DomainError) -> Response:
    status = (
        429
        if problem.status_code == 429
        else problem.status_code
        if problem.status_code in (403, 404)
        else 400
    )
    body = [{"code": status, "description": problem.message}]
    retry_after = problem.detail.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return reply(fmt if fmt in FORMATS else "json", "errors", body, status, headers)


def _context(request: Request) -> service.ReadContext:
    return service.ReadContext(base_url=str(request.base_url).rstrip("/"))


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(f"unknown format '{fmt}'; use .json or .xml")
    return fmt


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request) -> Response:
    """GeoReport v2 discovery: the endpoint, its formats and whom to ask for a key."""
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    value = {
        "changeset": "2026-11-23T00:00:00+07:00",
        "contact": f"Trung tâm Giám sát, điều hành đô thị thông minh — đường dây nóng {hotline_display()}",
        "key_service": "Quản trị viên CivicDesk cấp api_key cho từng ứng dụng",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-23T00:00:00+07:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return reply(_format(fmt), "discovery", value)


@router.get("/services.{fmt}")
def services(fmt: str, session: SessionDep) -> Response:
    """The public categories as Open311 services, in GeoReport v2's own JSON or XML."""
    return reply(_format(fmt), "services", service.services(session))


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str, session: SessionDep) -> Response:
    """A service's extra attributes (GeoReport v2 service definition)."""
    return reply(_format(fmt), "service_definition", service.definition(session, service_code))


def _attributes(form: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if key.startswith("attribute[") and key.endswith("]") or key.endswith("][]"):
            code = key[len("attribute[") :].split("]")[0]
            found.setdefault(code, []).append(str(value))
    return found


@router.post("/requests.{fmt}")
async def create_request(fmt: str, request: Request, session: SessionDep) -> Response:
    """File a report as an Open311 client (api_key required); answers the service_request_id at once."""
    fmt = _format(fmt)
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    key = fields.get("api_key") or request.query_params.get("api_key")
    client = await run_in_threadpool(service.client_for_key, session, key)  # the database: not on the loop
    new = service.NewRequest(
        service_code=fields.get("service_code"),
        lat=fields.get("lat"),
        long=fields.get("long"),
        address_string=fields.get("address_string"),
        address_id=fields.get("address_id"),
        description=fields.get("description"),
        email=fields.get("email"),
        phone=fields.get("phone"),
        first_name=fields.get("first_name"),
        last_name=fields.get("last_name"),
        media_url=fields.get("media_url"),
        attributes=_attributes(form),
    )
    await run_in_threadpool(service.check_request, session, new)
    if new.media_url:
        # the key's use and its rate-limit hit stand whatever follows; then the photo is fetched over
        # the network with no transaction open (and not on the event loop), the report filed in a new one
        await run_in_threadpool(end_transaction, session)
    photo = await run_in_threadpool(service.fetch_media, new)
    ticket = await run_in_threadpool(service.create_request, session, client, new, photo)
    notice = "Đã tiếp nhận; thời hạn xử lý theo quy định của thành phố."
    return reply(
        fmt,
        "service_requests",
        [{"service_request_id": ticket.code, "service_notice": notice, "account_id": None}],
        201,
    )


@router.get("/requests.{fmt}")
def list_requests(
    fmt: str,
    request: Request,
    session: SessionDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    """Requests by id, service, status or date window (GeoReport v2), newest first."""
    found = service.list_requests(
        session,
        _context(request),
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
    )
    return reply(_format(fmt), "service_requests", found)


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(service_request_id: str, fmt: str, request: Request, session: SessionDep) -> Response:
    """One request as GeoReport v2 shows it (nothing personal)."""
    found = service.get_request(session, service_request_id, _context(request))
    return reply(_format(fmt), "service_requests", [found])


@router.get("/media/{service_request_id}/{attachment_id}", response_class=StreamingResponse)
def request_photo(
    service_request_id: str, attachment_id: RowId, session: SessionDep, store: StoreDep
) -> StreamingResponse:
    """The photo a request's media_url names (cleaned of its metadata when it was stored)."""
    attachment = service.photo_of_request(session, service_request_id, attachment_id)
    return StreamingResponse(
        store.open(attachment.storage_key),
        media_type=attachment.mime_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/tokens/{token}.{fmt}")
def token(token: str, fmt: str) -> Response:
    """GeoReport v2 tokens: never issued here, as POST answers the service_request_id directly."""
    _format(fmt)
    # CivicDesk answers POST requests with the service_request_id at once and issues no tokens
    raise NotFound(f"token {token} not found: this server returns service_request_id directly")


@router.get("/servicerequestupdates.{fmt}")
def request_updates(
    fmt: str,
    session: SessionDep,
    start_date: str | None = None,
    end_date: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Newest first, 1,000 a page: `page=2` and on reach further back in the window."""
    found = service.updates(session, start_date, end_date, page=page)
    return reply(_format(fmt), "service_request_updates", found)


class ClientIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, description="the application's name")
    requests_per_minute: int = Field(default=60, ge=1, le=10000, description="its rate limit")


@admin_router.post("", status_code=201)
def create_client(body: ClientIn, session: SessionDep, user: CurrentUser) -> NewClientOut:
    """Give an application a key to file reports through Open311; the key is shown this once."""
    permissions.require_action(user, "manage_open311_clients")
    client, key = service.create_client(session, body.name, body.requests_per_minute)
    return NewClientOut.model_validate({**ClientOut.model_validate(client).model_dump(), "api_key": key})


@admin_router.get("")
def list_clients(session: SessionDep, user: CurrentUser) -> list[ClientOut]:
    """Every Open311 client, revoked ones too, oldest first."""
    permissions.require_action(user, "manage_open311_clients")
    return [ClientOut.model_validate(row) for row in service.clients(session)]


@admin_router.delete("/{client_id}", status_code=204)
def revoke_client(client_id: RowId, session: SessionDep, user: CurrentUser) -> None:
    """Revoke a client's key at once."""
    permissions.require_action(user, "manage_open311_clients")
    service.revoke_client(session, client_id)
