"""Uploaded documents: type read from content, size limit, stored outside the web root."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from participants import services
from participants.models import Document
from tjp.models import AuditEvent
from tjp.roles import Role

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def coordinator(personas):
    return personas[Role.COORDINATOR]


def _upload(participant, by, name, content, *, title="Participation agreement", kind="agreement"):
    return services.document_upload(
        acting_user=by,
        participant=participant,
        kind=kind,
        title=title,
        uploaded_file=SimpleUploadedFile(name, content, content_type="application/octet-stream"),
    )


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("agreement.pdf", PDF, "application/pdf", "pdf"),
        ("scan.png", PNG, "image/png", "png"),
        ("photo.jpeg", JPEG, "image/jpeg", "jpg"),
        # the name says nothing: the content decides
        ("from-the-scanner.txt", PDF, "application/pdf", "pdf"),
        ("IMG_0001", JPEG, "image/jpeg", "jpg"),
    ],
)
def test_accepted_by_content(
    participant, coordinator, media, settings, name, content, content_type, extension
):
    document = _upload(participant, coordinator, name, content)
    document.refresh_from_db()
    assert document.content_type == content_type
    assert document.original_name == name
    assert document.size == len(content)
    assert document.created_by == coordinator
    stored = Path(document.file.path)
    assert stored.is_relative_to(media)
    assert stored.read_bytes() == content
    assert stored.name == f"{document.uuid}.{extension}"  # never the uploader's name
    for static in [settings.STATIC_ROOT, *settings.STATICFILES_DIRS]:
        assert not stored.is_relative_to(Path(static))
    assert AuditEvent.objects.filter(
        participant_uuid=participant.uuid,
        object_id=str(document.uuid),
        action=AuditEvent.Action.CREATE,
    ).exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("agreement.pdf", b"Just some text pretending to be a PDF."),
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("empty.pdf", b""),
        ("almost.pdf", b"%PD"),
    ],
)
def test_refused_by_content(participant, coordinator, media, name, content):
    with pytest.raises(ValidationError) as refused:
        _upload(participant, coordinator, name, content)
    assert "file" in refused.value.message_dict
    assert not Document.objects.exists()
    assert _stored_files(media) == []
    assert not AuditEvent.objects.filter(object_type="participants.document").exists()


def test_oversize_refused(participant, coordinator, media, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as refused:
        _upload(participant, coordinator, "big.pdf", PDF + b"0" * 1024)
    assert "file" in refused.value.message_dict
    assert not Document.objects.exists()
    assert _stored_files(media) == []
    exactly = _upload(participant, coordinator, "fits.pdf", PDF.ljust(1024, b" "))
    assert exactly.size == 1024


def test_title_required_and_nothing_stored(participant, coordinator, media):
    with pytest.raises(ValidationError) as refused:
        _upload(participant, coordinator, "agreement.pdf", PDF, title="  ")
    assert "title" in refused.value.message_dict
    assert not Document.objects.exists()
    assert _stored_files(media) == []


def test_a_document_in_object_storage_is_streamed_through_the_checked_view(
    participant, coordinator, personas, outsider, media, settings, as_user
):
    """With a storage that is not the filesystem (as with the S3 bucket: settings), nothing is
    written under MEDIA_ROOT, and the download streams the stored bytes through the view that
    checks access and records it: never a redirect to the storage's own URL."""
    from django.core.files.storage import default_storage
    from django.urls import reverse

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    document = _upload(participant, coordinator, "agreement.pdf", PDF)
    assert _stored_files(media) == []
    with default_storage.open(document.file.name) as stored:
        assert stored.read() == PDF
    url = reverse("document_download", args=[participant.uuid, document.uuid])
    response = as_user(personas[Role.JUDGE]).get(url)
    assert response.status_code == 200 and "Location" not in response
    assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_id=str(document.uuid), actor=personas[Role.JUDGE]
    ).exists()
    assert as_user(outsider).get(url).status_code == 404
