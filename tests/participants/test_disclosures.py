"""The accounting of disclosures (42 CFR 2.24/2.25): every disclosure of a participant's
information in the past three years, for the program's coordinators and managers, as a page and
a PDF carrying the 2.32 notice; everyone else is refused (another program's staff: 404)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.hearings.test_packet import _pdf_text as pdf_text
from tjp import audit
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services
from treatment.queries import treatment_record

R = Role


@pytest.fixture
def consented(participant, personas):
    """The live criminal-justice consent of `participant`, treated by a provider."""
    from participants import services as participant_services
    from participants.models import InformationCategory

    provider = services.provider_create(
        acting_user=None, name="Clinic", programs=[participant.program]
    )
    services.provider_add_clinician(acting_user=None, provider=provider, user=personas[R.CLINICIAN])
    services.provider_assign(
        acting_user=personas[R.COORDINATOR],
        participant=participant,
        provider=provider,
        assigned_on=participant.entry_date,
    )
    return participant_services.consent_record(
        acting_user=personas[R.COORDINATOR],
        participant=participant,
        data={
            "discloser": "Clinic",
            "categories": InformationCategory.values,
            "recipient_roles": ["judge", "prosecutor", "defender", "coordinator", "manager"],
            "purpose": "Monitor participation in the treatment court.",
            "criminal_justice": True,
            "signed_on": participant.entry_date,
            "expires_on": None,
            "expiry_event": "Final disposition of the case",
        },
    )


@pytest.fixture
def disclosed(consented, personas):
    """`consented`'s participant, whose progress update the judge read (one disclosure) and the
    prosecutor exported (another), and whose earlier disclosure is now over three years old."""
    p = consented.participant
    services.progress_update_record(
        acting_user=personas[R.CLINICIAN],
        participant=p,
        period_start=p.entry_date,
        period_end=p.entry_date,
        engagement="good",
        summary="Doing well.",
    )
    with time_machine.travel(timezone.now() - timedelta(days=3 * 365 + 2)):
        audit.record(
            actor=personas[R.MANAGER],
            action=AuditEvent.Action.DISCLOSE,
            obj=p,
            program=p.program,
            participant_uuid=p.uuid,
            consent_uuid=consented.uuid,
            detail={"categories": ["progress"], "export": False},
        )
    treatment_record(personas[R.JUDGE], p, sections={"progress_updates"})
    treatment_record(personas[R.PROSECUTOR], p, sections={"progress_updates"}, export=True)
    return p


def _url(p, pdf=False):
    return reverse(
        "participant_disclosures_pdf" if pdf else "participant_disclosures", args=[p.uuid]
    )


@pytest.mark.parametrize("role", [R.COORDINATOR, R.MANAGER])
def test_coordinator_and_manager_read_every_disclosure_of_three_years(
    as_user, personas, disclosed, role
):
    page = as_user(personas[role]).get(_url(disclosed))
    assert page.status_code == 200
    text = page.content.decode()
    rows = text.split('data-testid="disclosures"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 3  # the header and two disclosures; the old one is past 3 years
    assert personas[R.JUDGE].email in rows and personas[R.PROSECUTOR].email in rows
    assert personas[R.MANAGER].email not in rows
    assert AuditEvent.objects.filter(actor=personas[R.MANAGER], action="disclose").exists()
    assert "Judge" in rows and "Prosecutor" in rows
    assert "Progress updates" in rows and "export" in rows
    assert "Monitor participation in the treatment court." in rows  # the consent's purpose
    assert "127.0.0.1" not in rows or "—" in rows  # from where: the address when known
    assert "42 CFR part 2" in text  # the 2.32 notice
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, detail__page="disclosures")
    assert viewed.get().actor == personas[role]


def test_the_pdf_carries_the_notice_and_the_disclosures(as_user, personas, disclosed):
    response = as_user(personas[R.MANAGER]).get(_url(disclosed, pdf=True))
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert "Accounting of disclosures" in text and "42 CFR 2.32" in text
    assert personas[R.JUDGE].email in text and personas[R.PROSECUTOR].email in text
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.EXPORT, detail__report="disclosures"
    ).exists()


@pytest.mark.parametrize("role", [R.JUDGE, R.PROSECUTOR, R.DEFENDER, R.CLINICIAN])
def test_the_rest_of_the_team_may_not(as_user, personas, disclosed, role):
    client = as_user(personas[role])
    assert client.get(_url(disclosed)).status_code == 403
    assert client.get(_url(disclosed, pdf=True)).status_code == 403


def test_administrators_and_other_programs_get_404(as_user, personas, outsider, disclosed):
    for user in (personas[R.ADMINISTRATOR], outsider):
        client = as_user(user)
        assert client.get(_url(disclosed)).status_code == 404
        assert client.get(_url(disclosed, pdf=True)).status_code == 404
    denied = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED, actor=outsider)
    assert denied.count() == 2 and str(disclosed.uuid) in denied.first().path


def test_another_programs_manager_gets_404(as_user, other_program, disclosed):
    from tests.factories import UserFactory

    manager = UserFactory(email="manager@pjt.test", role=R.MANAGER, programs=[other_program])
    assert as_user(manager).get(_url(disclosed)).status_code == 404


def test_no_disclosure_says_so(as_user, personas, participant):
    text = as_user(personas[R.MANAGER]).get(_url(participant)).content.decode()
    assert "No disclosure in this period." in text
