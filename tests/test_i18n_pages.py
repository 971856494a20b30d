"""Every page, in Vietnamese and in English, shows only its own language's words and no raw codes.

One demo-like database for the module: the demo users, tickets along every journey, the IOC
subsystems with a few hours of data. Each page is read as each staff role (and anonymously for the
public and IOC pages), its visible text taken (tags, attributes, scripts and ``<code>`` left out), and
checked against the catalogues: a Vietnamese page must not show a string of the English catalogue
that differs from its Vietnamese, an English page none of the Vietnamese catalogue; neither may show a
status, category, ward, department, channel, role, event kind or IOC subsystem code as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from staff_signin import sign_in

from civicdesk.asgi import create_app
from civicdesk.demo import DEMO_PASSWORD, seed_demo_tickets, seed_demo_users
from ioc import service as ioc_service
from kernel.db import make_engine, unit_of_work
from kernel.i18n import catalogue
from tickets.models import ActorType, Channel, EventKind, Priority, Status, Ticket
from tickets.reference import Category, Department, Ward
from tickets.staff import Role

ROLES = {"admin": "admin", "supervisor": "giamsat", "agent": "tongdai", "department": "qldt"}
ROLES["ward_officer"] = "phuong.phanrang"
STAFF_PAGES = [
    "/staff/console",
    "/staff/tasks",
    "/staff/boards",
    "/staff/admin",
    "/staff/admin/ioc",
    "/staff/admin/city",
    "/staff/tickets",
]
PUBLIC_PAGES = ["/", "/report", "/lookup", "/reports", "/reports?status=resolved", "/t/no-such-link"]
HIDDEN = {"script", "style", "code", "kbd", "template"}  # <code> marks an identifier shown on purpose
URGENCIES = {"breached", "at_risk", "on_track", "paused", "no_deadline"}


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Visible(HTMLParser):
    """Text nodes, without those inside HIDDEN elements or elements hidden from everyone (honeypots)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[bool] = []  # per open element: does it hide its content
        self.segments: list[str] = []
        self.page_language: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.page_language = dict(attrs).get("lang")
        if tag not in VOID:
            unseen = dict(attrs).get("aria-hidden") == "true" or "hidden" in dict(attrs)
            self.open.append(tag in HIDDEN or unseen or self._marked_foreign(tag, dict(attrs)))

    def _marked_foreign(self, tag: str, attrs: dict[str, str | None]) -> bool:
        """Text marked as another language on purpose (lang="en" on the English version of a reply
        template an admin edits on a Vietnamese page) is data in that language, not the page's words."""
        marked = attrs.get("lang")
        return tag != "html" and marked is not None and marked != self.page_language

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    @property
    def hidden(self) -> bool:
        return any(self.open)

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self.hidden:
            self.segments.append(text)


def visible_text(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.segments


@pytest.fixture(scope="module")
def demo_engine(module_database: str) -> Iterator[Engine]:
    engine = make_engine(module_database)
    with unit_of_work(engine) as session:
        seed_demo_users(session)
        seed_demo_tickets(session, count=40)
        ioc_service.seed(session)
        ioc_service.backfill(session, hours=2)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def codes(demo_engine: Engine) -> set[str]:
    with unit_of_work(demo_engine) as session:
        reference = {
            *session.exec(select(Category.code)).all(),
            *session.exec(select(Ward.code)).all(),
            *session.exec(select(Department.code)).all(),
        }
    enums = [Status, EventKind, Channel, Priority, Role, ActorType]
    subsystems = {row["code"] for row in ioc_service.subsystems()}
    # a unit such as "ca" (cases) is a word, not the police's department code; usernames are typed as is
    units = {spec["unit"] for specs in ioc_service.metric_specs().values() for spec in specs}
    usernames = set(ROLES.values()) | {"tnmt"}
    every = reference | {member.value for enum in enums for member in enum} | URGENCIES | subsystems
    return every - units - usernames


def _page(answer: httpx.Response) -> str:
    assert answer.status_code < 500, f"{answer.request.url}: {answer.status_code}"
    return answer.text


def _pages(demo_engine: Engine, language: str) -> Iterator[tuple[str, str]]:
    """(who and which page, its HTML) for every page in ``language``; none may fail (5xx)."""
    with unit_of_work(demo_engine) as session:
        tickets = session.exec(select(Ticket).order_by(Ticket.id)).all()
        by_status = {ticket.status: (ticket.id, ticket.tracking_token) for ticket in tickets}
    app = create_app(demo_engine)

    def query(path: str) -> str:
        return f"{path}{'&' if '?' in path else '?'}lang={language}"

    with TestClient(app) as public:
        for path in PUBLIC_PAGES + [f"/t/{token}" for _id, token in by_status.values()]:
            yield f"public {path}", _page(public.get(query(path)))
        empty_report = public.post(query("/report"), data={"text": "", "latitude": "abc"})
        yield "public report form with errors", _page(empty_report)
        lookup = public.post(query("/lookup"), data={"code": "PR-1", "phone_last4": "12"})
        yield "public lookup miss", _page(lookup)
        for subsystem in ioc_service.subsystems():
            yield f"ioc {subsystem['code']}", _page(public.get(query(f"/ioc/{subsystem['code']}")))
        yield "ioc overview", _page(public.get(query("/ioc")))
        yield "staff login", _page(public.get(query("/staff/login")))
    for role, username in ROLES.items():
        with TestClient(app) as staff:
            staff.cookies.set("lang", language)
            assert sign_in(staff, username, DEMO_PASSWORD).status_code == 303
            for path in STAFF_PAGES + [f"/staff/tickets/{ticket_id}" for ticket_id, _t in by_status.values()]:
                yield f"{role} {path}", _page(staff.get(query(path)))
            yield f"{role} bad filter", _page(staff.get(query("/staff/tickets?channel=nope")))


def _foreign_strings(language: str) -> tuple[set[str], list[str]]:
    """The other catalogue's texts that differ from this language's: (whole segments, long fragments)."""
    other = "en" if language == "vi" else "vi"
    mine, theirs = catalogue(language), catalogue(other)
    whole: set[str] = set()
    fragments: list[str] = []
    for msgid, text in theirs.items():
        own = mine.get(msgid) or (msgid if language == "vi" else "")
        if not text or text == own:
            continue
        parts = [part.strip() for part in re.split(r"\{\w*\}", text)]
        if len(parts) == 1:
            whole.add(text)
        fragments += [part for part in parts if len(part) >= 16]
    return whole, fragments


PIECES = re.compile(r"\s*[·|:()\[\]/—–]\s*|\s+-\s+")  # not commas: "noise" in a sentence is a word


# English function words that are not also Vietnamese words written without marks ("an", "to", "no")
ENGLISH_WORDS = {"the", "is", "of", "and", "or", "not", "cannot", "must", "be", "with", "for", "this", "that"}
ENGLISH_WORDS |= {"from", "one", "has", "have", "are", "was", "were", "by", "at", "its", "here", "there"}


def _english_sentence(segment: str) -> bool:
    """Two or more English function words: a sentence no catalogue knows (a message written in code)."""
    return len(ENGLISH_WORDS & set(segment.lower().split())) >= 2


def problems_on(page: str, segments: list[str], language: str, codes: set[str]) -> list[str]:
    whole, fragments = _foreign_strings(language)
    found = []
    for segment in segments:
        if language == "vi" and _english_sentence(segment):
            found.append(f"{page}: English sentence: {segment!r}")
        if segment in whole:
            found.append(f"{page}: other language: {segment!r}")
            continue
        found += [f"{page}: other language: {part!r} in {segment!r}" for part in fragments if part in segment]
        raw = [piece for piece in PIECES.split(segment) if piece.strip() in codes]
        raw += [code for code in codes if "_" in code and re.search(rf"\b{re.escape(code)}\b", segment)]
        found += [f"{page}: raw code {code!r} in {segment!r}" for code in dict.fromkeys(raw)]
    return found


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_page_speaks_one_language_without_raw_codes(
    demo_engine: Engine, codes: set[str], language: str
) -> None:
    found: list[str] = []
    pages = 0
    for page, html in _pages(demo_engine, language):
        pages += 1
        found += problems_on(page, visible_text(html), language, codes)
    assert pages > 40
    print("\n".join(dict.fromkeys(found)))  # the whole list, past pytest's cut of a long message
    assert found == [], f"{len(found)} problems:\n" + "\n".join(dict.fromkeys(found))


VIETNAMESE = re.compile(r"[\u1ea0-\u1ef9ăâđêôơưĂÂĐÊÔƠƯàáèéìíòóùúýãĩõũÀÁÈÉÌÍÒÓÙÚÝÃĨÕŨ]")
SPOKEN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"


def _literal_text(template: str) -> list[str]:
    """Words a template writes itself: text between tags and string literals inside {{ }} and {% %}."""
    without_comments = re.sub(r"\{#.*?#\}", "", template, flags=re.S)
    literals: list[str] = []
    for block in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", without_comments, flags=re.S):
        literals += [match[1] for match in re.findall(r"(['\"])(.*?)\1", block)]
    outside = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", without_comments, flags=re.S)
    spoken = re.findall(rf"(?:{'|'.join(SPOKEN_ATTRIBUTES)})=\"([^\"]*)\"", outside)
    return literals + spoken + visible_text(outside)


def test_no_template_writes_vietnamese_words_of_its_own() -> None:
    """A word in a template bypasses the catalogue and shows in Vietnamese on the English pages."""
    found = [
        f"{path.relative_to(TEMPLATES)}: {text!r}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for text in _literal_text(path.read_text(encoding="utf-8"))
        if VIETNAMESE.search(text)
    ]
    assert found == []
