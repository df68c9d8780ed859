"""The engine's extension points: what a channel (bundles, payments, the counter, later the kiosk
and assisted sessions) may add to the engine, without the engine importing the channel.

One `Extensions` registry per app (`app.extensions["submission_extensions"]`, made by
`init_app`); each channel registers in its own `register_extensions(registry)`, called from the
app factory. docs/decisions/0037-engine-extension-points.md says when each point runs.

1. `before_submit`: a page the applicant goes through before the check page lets them submit.
2. `after_submit`: called in the transaction that submitted an application.
3. `status_items` / `application_items` / `draft_homes`: related items on the status page and
   on "my applications", and where a draft kept by a channel is continued.
4. `signing_flows`: a flow that signs several documents with one card signature, back through
   the engine's one /sign/callback.
5. `helper_kinds`: who entered or helped with an application (`Submission.entered_by`).
6. `answer_masks`: whether the person looking now sees the answers of `sensitive` fields
   masked (a helper in an assisted session).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy.orm import Session

from portal.submissions.models import Submission

EXTENSION_KEY = "submission_extensions"


class ExtensionError(Exception):
    """A registration the engine cannot honour (a name registered twice, an unknown kind)."""


# --- 1. a page before submit ------------------------------------------------------------------


@dataclass(frozen=True)
class BeforeSubmitPage:
    """A page of a channel that the applicant must go through before submitting.

    The engine's check page asks every registered page, in order of registration: the first
    that `applies` and is not `done` is where the applicant goes instead (GET and POST alike;
    nothing is submitted while one is pending). The channel's page, once answered, sends the
    applicant back to `url_for("submissions.check", procedure_id=...)`."""

    name: str
    applies: Callable[[Submission], bool]
    done: Callable[[Submission], bool]
    url: Callable[[Submission], str]


# --- 2. after submit --------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """What an after-submit hook is told: the application just submitted (it has its reference
    and status link), in the session and transaction that submitted it."""

    session: Session
    submission: Submission
    now: dt.datetime


class AfterSubmit(Protocol):
    """Called once per application, right after the submit transition won (never for a second,
    idempotent submit), before the caller commits: what it adds commits with the submission, and
    an exception rolls the submission back."""

    def __call__(self, event: Submitted) -> None: ...


# --- 3. related items -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusItem:
    """What a channel shows on an application's status page: rows for the facts list at the
    top (label, text) and an HTML fragment below the decision notes."""

    facts: tuple[tuple[str, str], ...] = ()
    body: Markup | None = None


class StatusItems(Protocol):
    """(submission, status link token) → the channel's item for the status page, or None."""

    def __call__(self, submission: Submission, token: str) -> StatusItem | None: ...


class ApplicationItems(Protocol):
    """(the resident's `sub`, the applications listed) → an HTML fragment shown above the list on
    "my applications" (unpaid fees, bundles, ...), or None."""

    def __call__(self, owner_sub: str, submissions: Sequence[Submission]) -> Markup | None: ...


class DraftHome(Protocol):
    """Where a draft that a channel keeps is continued (a bundle's member: its bundle), or None
    when the channel does not keep it. Such drafts are not listed on "my applications" (the
    channel's own item shows them) and "continue" goes to this URL."""

    def __call__(self, submission: Submission) -> str | None: ...


# --- 4. signing several documents at once -----------------------------------------------------


class SigningCallback(Protocol):
    """Back from the card service for a flow started with `signing.begin_signing(flow=...)`:
    `pending` is the state the flow stored, `user` the signed-in resident. Returns the response
    (after `signing.keep_signature` for each document and submitting, or a failure page)."""

    def __call__(self, pending: dict[str, Any], user: dict[str, Any]) -> ResponseReturnValue: ...


# --- 5. who entered or helped -----------------------------------------------------------------


@dataclass(frozen=True)
class HelperKind:
    """A kind of person who enters applications for others (a counter clerk, a volunteer).

    `Submission.entered_by` holds "<kind>:<id>" (set with `mark_helped`); `describe(session,
    id)` says, in Japanese, who helped, for the status page ("窓口で職員が入力しました")."""

    kind: str
    describe: Callable[[Session, str], str | None]


# --- 6. answers masked for the person looking ----------------------------------------------


class AnswerMask(Protocol):
    """(submission) → True when whoever the current request serves must not see the answers of
    the catalog's `sensitive` fields (a helper beside the resident): the summary shows them
    masked, on the server."""

    def __call__(self, submission: Submission) -> bool: ...


# --- the registry -----------------------------------------------------------------------------


@dataclass
class Extensions:
    before_submit: list[BeforeSubmitPage] = field(default_factory=list)
    after_submit: list[AfterSubmit] = field(default_factory=list)
    status_items: list[StatusItems] = field(default_factory=list)
    application_items: list[ApplicationItems] = field(default_factory=list)
    draft_homes: list[DraftHome] = field(default_factory=list)
    signing_flows: dict[str, SigningCallback] = field(default_factory=dict)
    helper_kinds: dict[str, HelperKind] = field(default_factory=dict)
    answer_masks: list[AnswerMask] = field(default_factory=list)

    # Registration (each channel, once, from the app factory).

    def add_before_submit(self, page: BeforeSubmitPage) -> None:
        if any(p.name == page.name for p in self.before_submit):
            raise ExtensionError(f"before-submit page {page.name!r} registered twice")
        self.before_submit.append(page)

    def add_after_submit(self, hook: AfterSubmit) -> None:
        self.after_submit.append(hook)

    def add_status_items(self, items: StatusItems) -> None:
        self.status_items.append(items)

    def add_application_items(self, items: ApplicationItems) -> None:
        self.application_items.append(items)

    def add_draft_home(self, home: DraftHome) -> None:
        self.draft_homes.append(home)

    def add_signing_flow(self, name: str, callback: SigningCallback) -> None:
        if name in self.signing_flows:
            raise ExtensionError(f"signing flow {name!r} registered twice")
        self.signing_flows[name] = callback

    def add_helper_kind(self, helper: HelperKind) -> None:
        if ":" in helper.kind or helper.kind in self.helper_kinds:
            raise ExtensionError(f"helper kind {helper.kind!r} is invalid or registered twice")
        self.helper_kinds[helper.kind] = helper

    def add_answer_mask(self, mask: AnswerMask) -> None:
        self.answer_masks.append(mask)

    # What the engine asks.

    def masks_sensitive(self, submission: Submission) -> bool:
        """Whether the answers of sensitive fields are shown masked in this request."""
        return any(mask(submission) for mask in self.answer_masks)

    def pending_page(self, submission: Submission) -> str | None:
        """The URL of the first before-submit page still to go through, or None."""
        for page in self.before_submit:
            if page.applies(submission) and not page.done(submission):
                return page.url(submission)
        return None

    def submitted(self, session: Session, submission: Submission, now: dt.datetime) -> None:
        event = Submitted(session, submission, now)
        for hook in self.after_submit:
            hook(event)

    def status_page_items(self, submission: Submission, token: str) -> list[StatusItem]:
        found = (items(submission, token) for items in self.status_items)
        return [item for item in found if item is not None]

    def application_page_items(
        self, owner_sub: str, submissions: Sequence[Submission]
    ) -> list[Markup]:
        found = (items(owner_sub, submissions) for items in self.application_items)
        return [item for item in found if item is not None]

    def draft_home(self, submission: Submission) -> str | None:
        for home in self.draft_homes:
            url = home(submission)
            if url is not None:
                return url
        return None

    def helped_by(self, session: Session, submission: Submission) -> str | None:
        """Who entered or helped with the application, as the registered kind describes it."""
        if not submission.entered_by:
            return None
        kind, _, helper_id = submission.entered_by.partition(":")
        helper = self.helper_kinds.get(kind)
        return helper.describe(session, helper_id) if helper else None


def init_app(app: Flask) -> Extensions:
    registry = Extensions()
    app.extensions[EXTENSION_KEY] = registry
    return registry


def registry() -> Extensions:
    """The current app's registry."""
    found: Extensions = current_app.extensions[EXTENSION_KEY]
    return found


def mark_helped(submission: Submission, kind: str, helper_id: str) -> None:
    """Record who entered the application for the applicant (a registered helper kind)."""
    if kind not in registry().helper_kinds:
        raise ExtensionError(f"unknown helper kind {kind!r}")
    submission.entered_by = f"{kind}:{helper_id}"
