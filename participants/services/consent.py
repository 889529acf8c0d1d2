"""Documents and 42 CFR Part 2 consents."""

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.models import (
    Consent,
    Document,
    InformationCategory,
    Participant,
)
from participants.services.rules import A, required_text
from tjp import clock
from tjp.access import program_organisations
from tjp.audit import record_about
from tjp.clock import program_today
from tjp.models import User
from tjp.roles import Role

# --- documents and consent -------------------------------------------------------------------
SIGNATURES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def _sniff(uploaded: UploadedFile) -> tuple[str, str]:
    head = uploaded.read(16)
    uploaded.seek(0)
    for magic, kind in SIGNATURES.items():
        if head.startswith(magic):
            return kind
    raise ValidationError({"file": _("Upload a PDF, PNG or JPEG file.")})


@transaction.atomic
def document_upload(
    *,
    acting_user: User,
    participant: Participant,
    kind: str,
    title: str,
    uploaded_file: UploadedFile,
    request: HttpRequest | None = None,
) -> Document:
    """Store a document outside the web root; its type is read from its content, not its name."""
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of document.")})
    if uploaded_file.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)s MB.")
                % {"mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    content_type, extension = _sniff(uploaded_file)
    document = Document(
        participant=participant,
        created_by=acting_user,
        kind=kind,
        title=required_text(title, "title"),
        original_name=uploaded_file.name[:255],
        content_type=content_type,
        size=uploaded_file.size,
    )
    document.file.save(f"{document.uuid}.{extension}", uploaded_file, save=False)
    # The file is written before the row; if this transaction does not commit, remove it.
    stored = document.file.name
    try:
        document.save()
    except Exception:
        document.file.storage.delete(stored)
        raise
    record_about(acting_user, A.CREATE, document, participant, request)
    return document


@transaction.atomic
def consent_record(
    *,
    acting_user: User,
    participant: Participant,
    data: dict[str, Any],
    signed_file: UploadedFile | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    """Record a signed consent with all its 42 CFR Part 2 elements."""
    data = dict(data)
    program = participant.program
    categories = data.get("categories") or []
    if not categories or not set(categories) <= set(InformationCategory.values):
        raise ValidationError({"categories": _("Choose at least one kind of information.")})
    roles = data.get("recipient_roles") or []
    if not set(roles) <= {r.value for r in Role if r != Role.ADMINISTRATOR}:
        raise ValidationError({"recipient_roles": _("Choose the roles that may receive it.")})
    organisations = list(data.pop("recipient_organisations", None) or [])
    if not set(organisations) <= set(program_organisations(program)):
        raise ValidationError(
            {"recipient_organisations": _("Choose organisations that serve this program.")}
        )
    if not roles and not organisations:
        raise ValidationError(
            {"recipient_roles": _("Choose the roles or organisations that may receive it.")}
        )
    if not data.get("signed_on"):  # the signature date is one of the consent's elements
        raise ValidationError({"signed_on": _("This field is required.")})
    clock.check_not_future(data["signed_on"], program, "signed_on")
    if data.get("expires_on") and data["expires_on"] < data["signed_on"]:
        raise ValidationError({"expires_on": _("The consent cannot expire before it is signed.")})
    if not data.get("expires_on") and not (data.get("expiry_event") or "").strip():
        raise ValidationError(_("A consent needs an expiry date or an expiry event."))
    for field in ("discloser", "purpose"):
        data[field] = required_text(data.get(field, ""), field)
    document = None
    if signed_file is not None:
        document = document_upload(
            acting_user=acting_user,
            participant=participant,
            kind=Document.Kind.CONSENT,
            title=_("Signed consent"),
            uploaded_file=signed_file,
            request=request,
        )
    consent = Consent.objects.create(
        participant=participant, created_by=acting_user, document=document, **data
    )
    consent.recipient_organisations.set(organisations)
    record_about(acting_user, A.CREATE, consent, participant, request)
    return consent


@transaction.atomic
def consent_revoke(
    *,
    acting_user: User,
    consent: Consent,
    revoked_on: date,
    request: HttpRequest | None = None,
) -> Consent:
    """Revoke a consent. A criminal-justice consent (42 CFR 2.35) stands until the case's final
    disposition."""
    locked = (
        Consent.objects.select_for_update()
        .select_related("participant__program")
        .get(pk=consent.pk)
    )
    participant = locked.participant
    if locked.revoked_on is not None:
        raise ValidationError(_("This consent is already revoked."))
    if locked.criminal_justice and not participant.disposition:
        raise ValidationError(
            _(
                "A consent given as a condition of a criminal-justice program cannot be revoked "
                "before the final disposition of the case."
            )
        )
    clock.check_not_future(revoked_on, participant.program, "revoked_on")
    if revoked_on < locked.signed_on:
        raise ValidationError({"revoked_on": _("A consent cannot be revoked before it is signed.")})
    locked.revoked_on = revoked_on
    locked.save(update_fields=["revoked_on"])
    record_about(acting_user, A.UPDATE, locked, participant, request, revoked_on=str(revoked_on))
    return locked


def live_consent(
    participant: Participant,
    *,
    category: str,
    role: str,
    on: date | None = None,
    organisations: frozenset[int] = frozenset(),
) -> Consent | None:
    """The consent that lets a reader of `role` (working for `organisations`) see `category` of
    this participant's treatment information today, if any (Consent.covers)."""
    on = on or program_today(participant.program)
    for consent in participant.consents.prefetch_related("recipient_organisations"):
        if consent.covers(category, role, on, organisations):
            return consent
    return None
