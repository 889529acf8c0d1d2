"""The treatment pages: who may open what (a table), the consent gate as the court team sees
it, clinical notes kept from every court role, and the forms through to the services."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from participants.disclosures import REDISCLOSURE_NOTICE, REDISCLOSURE_NOTICE_EN
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services
from treatment.models import (
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    Medication,
    ProgressUpdate,
    ProviderAssignment,
    TestingProfile,
    TestSelection,
    TreatmentEpisode,
    TreatmentSession,
)

R = Role
COURT_ROLES = [R.JUDGE, R.PROSECUTOR, R.DEFENDER, R.COORDINATOR, R.MANAGER]
SEES = {*COURT_ROLES, R.CLINICIAN}
# action -> roles allowed. Roles that see the participant but may not act get 403; roles that
# do not see it (administrator) get 404. None is the treatment page itself.
TABLE = {
    None: SEES,
    "episode": {R.CLINICIAN},
    "session": {R.CLINICIAN},
    "medication": {R.CLINICIAN},
    "progress": {R.CLINICIAN},
    "note": {R.CLINICIAN},
    "test": {R.CLINICIAN, R.COORDINATOR},
    "provider-assign": {R.COORDINATOR},
    "provider-end": {R.COORDINATOR},
}
NOTE = "Disclosed childhood trauma in session; private."
SUMMARY = "Attends every group and engages well."


def _url(action, participant):
    if action is None:
        return reverse("participant_treatment", args=[participant.uuid])
    url = reverse("treatment_action", args=[participant.uuid, action])
    if action == "provider-end":
        assignment = ProviderAssignment.objects.get(participant=participant, ended_on=None)
        url += f"?target={assignment.uuid}"
    return url


def _today(participant):
    return program_today(participant.program)


def _progress(participant, clinician, summary=SUMMARY):
    day = _today(participant)
    return services.progress_update_record(
        acting_user=clinician,
        participant=participant,
        period_start=day - timedelta(days=7),
        period_end=day,
        engagement="good",
        summary=summary,
    )


def _test(participant, user, *, lab, hours_ago=30, turnaround=4):
    collected = timezone.now() - timedelta(hours=hours_ago)
    return services.drug_test_record(
        acting_user=user,
        participant=participant,
        collected_at=collected,
        method="urine",
        results=[("cocaine", "negative"), ("cannabis", "positive")],
        resulted_at=collected + timedelta(hours=turnaround),
        lab=lab,
    )


# --- who may open what -----------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(TABLE))
def test_permission_table(client, personas, assigned, role, action):
    client.force_login(personas[role])
    status = client.get(_url(action, assigned)).status_code
    if role in TABLE[action]:
        assert status == 200, (role, action)
    elif role in SEES:
        assert status == 403, (role, action)
    else:
        assert status == 404, (role, action)


@pytest.mark.parametrize("action", list(TABLE))
def test_outsider_gets_404(client, outsider, assigned, action):
    client.force_login(outsider)
    assert client.get(_url(action, assigned)).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_another_programs_participant_is_404_for_everyone(
    client, personas, other_participant, role
):
    client.force_login(personas[role])
    for action in (None, "test", "progress", "provider-assign"):
        assert client.get(_url(action, other_participant)).status_code == 404, action


def test_unknown_action_and_target_are_404(client, personas, assigned):
    client.force_login(personas[R.COORDINATOR])
    assert client.get(reverse("treatment_action", args=[assigned.uuid, "nope"])).status_code == 404
    url = reverse("treatment_action", args=[assigned.uuid, "provider-end"])
    assert client.get(url + "?target=not-a-uuid").status_code == 404
    assert client.get(url + f"?target={assigned.uuid}").status_code == 404


def test_page_view_is_audited(client, personas, assigned):
    client.force_login(personas[R.PROSECUTOR])
    client.get(_url(None, assigned))
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, participant_uuid=assigned.uuid, actor=personas[R.PROSECUTOR]
    ).exists()


def test_participant_page_links_to_treatment(client, personas, participant):
    client.force_login(personas[R.JUDGE])
    page = client.get(reverse("participant_detail", args=[participant.uuid])).content.decode()
    assert _url(None, participant) in page


# --- clinical notes never reach the court ----------------------------------------------------
@pytest.fixture
def note(consent, personas):
    return services.clinical_note_record(
        acting_user=personas[R.CLINICIAN],
        participant=consent.participant,
        written_on=_today(consent.participant),
        text=NOTE,
    )


@pytest.mark.parametrize("role", COURT_ROLES)
def test_clinical_note_never_shown_to_court_roles(client, personas, note, role):
    _progress(note.participant, personas[R.CLINICIAN])
    client.force_login(personas[role])
    page = client.get(_url(None, note.participant)).content.decode()
    assert SUMMARY in page  # the consent works: the page does show provider information
    assert NOTE not in page and 'data-testid="clinical-notes"' not in page


def test_clinical_note_shown_to_the_providers_clinician(client, personas, note):
    client.force_login(personas[R.CLINICIAN])
    assert NOTE in client.get(_url(None, note.participant)).content.decode()


def test_other_providers_clinician_cannot_even_see_the_participant(client, note, other_provider):
    client.force_login(other_provider.clinician)
    response = client.get(_url(None, note.participant))
    assert response.status_code == 404 and NOTE not in response.content.decode()


# --- consent gate ----------------------------------------------------------------------------
def test_without_consent_court_user_sees_withheld(client, personas, assigned):
    _progress(assigned, personas[R.CLINICIAN])
    client.force_login(personas[R.JUDGE])
    page = client.get(_url(None, assigned)).content.decode()
    assert "Withheld — no consent covers this information." in page
    assert SUMMARY not in page
    assert 'data-testid="redisclosure-notice"' not in page
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE).exists()


def test_with_consent_court_user_sees_it_with_notice_and_each_view_is_logged(
    client, personas, consent
):
    participant = consent.participant
    _progress(participant, personas[R.CLINICIAN])
    client.force_login(personas[R.JUDGE])
    for views in (1, 2):
        page = client.get(_url(None, participant)).content.decode()
        assert SUMMARY in page
        assert 'data-testid="redisclosure-notice"' in page
        assert REDISCLOSURE_NOTICE_EN in page.replace("&#x27;", "'")
        disclosures = AuditEvent.objects.filter(
            action=AuditEvent.Action.DISCLOSE,
            consent_uuid=consent.uuid,
            actor=personas[R.JUDGE],
            participant_uuid=participant.uuid,
        )
        assert disclosures.count() == views


def test_redisclosure_notice_is_the_regulation_text_and_translatable(client, personas, consent):
    with translation.override("en"):
        assert str(REDISCLOSURE_NOTICE) == REDISCLOSURE_NOTICE_EN
    _progress(consent.participant, personas[R.CLINICIAN])
    client.force_login(personas[R.JUDGE])
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    page = client.get(_url(None, consent.participant)).content.decode()
    assert 'lang="es"' in page
    with translation.override("es"):
        assert str(REDISCLOSURE_NOTICE) in page.replace("&#x27;", "'")


def test_court_entered_tests_shown_without_consent_provider_ones_only_with(
    client, personas, assigned, provider
):
    _test(assigned, personas[R.COORDINATOR], lab="Court Lab One")
    _test(assigned, personas[R.CLINICIAN], lab="Provider Lab Two")
    client.force_login(personas[R.JUDGE])
    page = client.get(_url(None, assigned)).content.decode()
    assert "Court Lab One" in page and "Provider Lab Two" not in page
    assert "Withheld — no consent covers this information." in page


def test_provider_tests_shown_with_consent(client, personas, consent):
    _test(consent.participant, personas[R.CLINICIAN], lab="Provider Lab Two")
    client.force_login(personas[R.PROSECUTOR])
    page = client.get(_url(None, consent.participant)).content.decode()
    assert "Provider Lab Two" in page
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DISCLOSE, consent_uuid=consent.uuid
    ).exists()


def test_late_result_is_flagged(client, personas, assigned):
    assigned.program.result_turnaround_hours = 48
    assigned.program.save(update_fields=["result_turnaround_hours"])
    _test(assigned, personas[R.COORDINATOR], lab="On time", hours_ago=100, turnaround=20)
    client.force_login(personas[R.COORDINATOR])
    assert 'data-testid="late"' not in client.get(_url(None, assigned)).content.decode()
    _test(assigned, personas[R.COORDINATOR], lab="Slow", hours_ago=100, turnaround=60)
    page = client.get(_url(None, assigned)).content.decode()
    assert page.count('data-testid="late"') == 1


def test_query_count_does_not_grow_with_tests(
    client, personas, consent, django_assert_max_num_queries
):
    participant = consent.participant
    for n in range(3):
        _test(participant, personas[R.CLINICIAN], lab=f"lab {n}", hours_ago=10 + n)
    _progress(participant, personas[R.CLINICIAN])
    for role in (R.JUDGE, R.CLINICIAN):
        client.force_login(personas[role])
        client.get(_url(None, participant))  # warm caches (content types, sessions)
        with django_assert_max_num_queries(60) as small:
            client.get(_url(None, participant))
        counts = len(small.captured_queries)
        for n in range(27):
            _test(participant, personas[R.COORDINATOR], lab=f"more {n}", hours_ago=40 + n)
        with django_assert_max_num_queries(counts):
            response = client.get(_url(None, participant))
        assert response.content.decode().count("more ") >= 27


# --- the forms -------------------------------------------------------------------------------
def _local(participant, moment):
    """A moment as the program's wall clock in a datetime-local input."""
    local = timezone.localtime(moment, ZoneInfo(participant.program.time_zone))
    return local.strftime("%Y-%m-%dT%H:%M")


def _test_post(participant, **overrides):
    now = timezone.now()
    return {
        "collected_at": _local(participant, now - timedelta(hours=5)),
        "method": "urine",
        "observed": "on",
        "resulted_at": _local(participant, now - timedelta(hours=1)),
        "lab": "County Lab",
        "confirmation": "",
        "result_cocaine": "positive",
        "result_cannabis": "negative",
        **overrides,
    }


def test_drug_test_through_the_form(client, personas, assigned):
    client.force_login(personas[R.COORDINATOR])
    data = _test_post(assigned)
    response = client.post(_url("test", assigned), data)
    assert response.status_code == 302
    test = DrugTest.objects.get(participant=assigned)
    assert test.source == "court" and test.observed and test.lab == "County Lab"
    # The wall-clock time typed was read in the program's time zone, not the server's.
    local = timezone.localtime(test.collected_at, ZoneInfo(assigned.program.time_zone))
    assert local.strftime("%Y-%m-%dT%H:%M") == data["collected_at"]
    assert sorted(test.results.values_list("substance", "result")) == [
        ("cannabis", "negative"),
        ("cocaine", "positive"),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ("resulted_before_collected", "The result cannot precede the collection."),
        ("future_collection", "This time is in the future."),
        ({"result_cocaine": "purple"}, "Select a valid choice"),
        ({"result_cocaine": "", "result_cannabis": ""}, "Give the result of at least one"),
        ({"missed": "on"}, "A missed or refused test has no results."),
        ({"method": "hair"}, "Select a valid choice"),
        ({"collected_at": "yesterday"}, "Enter a valid date/time."),
    ],
)
def test_drug_test_bad_input_saves_nothing(client, personas, assigned, overrides, message):
    now = timezone.now()
    if overrides == "resulted_before_collected":
        overrides = {
            "collected_at": _local(assigned, now - timedelta(hours=2)),
            "resulted_at": _local(assigned, now - timedelta(hours=3)),
        }
    elif overrides == "future_collection":
        overrides = {
            "collected_at": _local(assigned, now + timedelta(days=1)),
            "resulted_at": "",
        }
    client.force_login(personas[R.COORDINATOR])
    response = client.post(_url("test", assigned), _test_post(assigned, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DrugTest.objects.exists() and not DrugTestResult.objects.exists()


CLINICIAN_FORMS = [
    (
        "episode",
        {"level_of_care": "2.1", "modality": "intensive", "admitted_on": "{today}"},
        TreatmentEpisode,
    ),
    (
        "session",
        {"session_date": "{today}", "kind": "group", "attendance": "attended", "hours": "1.5"},
        TreatmentSession,
    ),
    ("medication", {"drug": "buprenorphine", "dose": "8 mg", "started_on": "{today}"}, Medication),
    (
        "progress",
        {
            "period_start": "{today}",
            "period_end": "{today}",
            "engagement": "fair",
            "summary": SUMMARY,
        },
        ProgressUpdate,
    ),
    ("note", {"written_on": "{today}", "text": NOTE}, ClinicalNote),
]


@pytest.mark.parametrize(("action", "post", "model"), CLINICIAN_FORMS)
def test_clinician_records_through_the_forms(client, personas, assigned, action, post, model):
    today = _today(assigned).isoformat()
    client.force_login(personas[R.CLINICIAN])
    data = {k: v.format(today=today) for k, v in post.items()}
    response = client.post(_url(action, assigned), data)
    assert response.status_code == 302, response.content.decode()
    saved = model.objects.get(participant=assigned)
    assert saved.provider.name == "Recovery Clinic" and saved.created_by == personas[R.CLINICIAN]


def test_session_hours_are_summed_as_units_of_service(client, personas, assigned):
    today = _today(assigned)
    for attendance, hours in [("attended", "1.5"), ("late", "2"), ("absent", "0")]:
        services.session_record(
            acting_user=personas[R.CLINICIAN],
            participant=assigned,
            session_date=today,
            kind="group",
            attendance=attendance,
            hours=hours,
        )
    client.force_login(personas[R.CLINICIAN])
    page = client.get(_url(None, assigned)).content.decode()
    assert "3.50 hours attended (3 sessions recorded)" in page


def test_clinician_of_no_assigned_provider_is_told_why(client, personas, participant, provider):
    # The personas' clinician may see `participant` (asked to screen it), but their
    # organisation does not treat it: the service refuses and the form says why.
    client.force_login(personas[R.CLINICIAN])
    today = _today(participant).isoformat()
    response = client.post(
        _url("progress", participant),
        {"period_start": today, "period_end": today, "engagement": "good", "summary": "x"},
    )
    assert response.status_code == 400
    assert "assigned to your organisation" in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_provider_assignment_grants_and_ending_it_revokes(
    client, personas, assigned, other_provider
):
    page = _url(None, assigned)
    client.force_login(other_provider.clinician)
    assert client.get(page).status_code == 404

    client.force_login(personas[R.COORDINATOR])
    form = client.get(_url("provider-assign", assigned)).content.decode()
    assert "Other Clinic" in form
    today = _today(assigned).isoformat()
    response = client.post(
        _url("provider-assign", assigned),
        {"provider": str(other_provider.uuid), "assigned_on": today},
    )
    assert response.status_code == 302
    client.force_login(other_provider.clinician)
    assert client.get(page).status_code == 200

    assignment = ProviderAssignment.objects.get(participant=assigned, provider=other_provider)
    client.force_login(personas[R.COORDINATOR])
    end = reverse("treatment_action", args=[assigned.uuid, "provider-end"])
    response = client.post(f"{end}?target={assignment.uuid}", {"ended_on": today})
    assert response.status_code == 302
    client.force_login(other_provider.clinician)
    assert client.get(page).status_code == 404


def test_assigning_twice_is_a_form_error(client, personas, assigned, provider):
    client.force_login(personas[R.COORDINATOR])
    response = client.post(
        _url("provider-assign", assigned),
        {"provider": str(provider.uuid), "assigned_on": _today(assigned).isoformat()},
    )
    assert response.status_code == 400
    assert "already assigned" in response.content.decode()


def test_provider_of_another_program_is_not_offered(client, personas, assigned, other_program):
    stranger = services.provider_create(
        acting_user=None, name="Far Away Clinic", programs=[other_program]
    )
    client.force_login(personas[R.COORDINATOR])
    assert "Far Away Clinic" not in client.get(_url("provider-assign", assigned)).content.decode()
    response = client.post(
        _url("provider-assign", assigned),
        {"provider": str(stranger.uuid), "assigned_on": _today(assigned).isoformat()},
    )
    assert response.status_code == 400
    assert not ProviderAssignment.objects.filter(provider=stranger).exists()


# --- today's random tests --------------------------------------------------------------------
TESTING = reverse("testing_today")
RUN = reverse("testing_run")


@pytest.fixture
def tested_daily(participant):
    """`participant`, in a phase that tests every day (so today's draw always selects them),
    calling in under BLUE."""
    participant.phase.tests_per_week = 7
    participant.phase.save(update_fields=["tests_per_week"])
    TestingProfile.objects.create(participant=participant, call_in_code="BLUE")
    return participant


@pytest.mark.parametrize("role", list(Role))
def test_testing_pages_are_for_coordinators(client, personas, role):
    client.force_login(personas[role])
    allowed = role == R.COORDINATOR
    assert client.get(TESTING).status_code == (200 if allowed else 403)
    assert client.post(RUN).status_code == (302 if allowed else 403)
    nav = client.get(reverse("home")).content.decode()
    assert (f'href="{TESTING}"' in nav) == allowed


def test_run_selection_and_see_todays_list(client, personas, tested_daily, outsider):
    client.force_login(personas[R.COORDINATOR])
    page = client.get(TESTING).content.decode()
    assert tested_daily.person.full_name not in page
    client.post(RUN)
    client.post(RUN)  # idempotent
    selection = TestSelection.objects.get(participant=tested_daily)
    assert selection.day == _today(tested_daily)
    # The service notifies at 06:00 program time: whether the deadline has passed depends on
    # when the suite runs, so set it either way.
    selection.deadline = timezone.now() + timedelta(hours=1)
    selection.save(update_fields=["deadline"])
    page = client.get(TESTING).content.decode()
    assert tested_daily.person.full_name in page
    assert 'data-testid="selection-status">pending<' in page
    selection.deadline = timezone.now() - timedelta(minutes=1)
    selection.save(update_fields=["deadline"])
    assert 'data-testid="selection-status">missed<' in client.get(TESTING).content.decode()

    client.force_login(outsider)
    assert tested_daily.person.full_name not in client.get(TESTING).content.decode()


def test_call_in_lookup(client, personas, tested_daily, program):
    client.force_login(personas[R.COORDINATOR])
    response = client.post(TESTING, {"program": str(program.uuid), "code": "blue"})
    assert response.status_code == 200
    assert "Not selected today." in response.content.decode()

    client.post(RUN)
    response = client.post(TESTING, {"program": str(program.uuid), "code": "blue"})
    assert "Selected today — specimen due by" in response.content.decode()
    assert TestSelection.objects.get(participant=tested_daily).called_in_at is not None

    response = client.post(TESTING, {"program": str(program.uuid), "code": "GREEN"})
    assert response.status_code == 400
    assert "Unknown call-in code." in response.content.decode()


def test_call_in_lookup_only_in_own_programs(client, outsider, tested_daily, program):
    client.force_login(outsider)
    response = client.post(TESTING, {"program": str(program.uuid), "code": "BLUE"})
    assert response.status_code == 400
    assert not TestSelection.objects.exists()


def test_specimen_received_shows_in_the_list(client, personas, tested_daily):
    client.force_login(personas[R.COORDINATOR])
    client.post(RUN)
    _test(tested_daily, personas[R.COORDINATOR], lab="x", hours_ago=0.01, turnaround=0.005)
    page = client.get(TESTING).content.decode()
    assert 'data-testid="selection-status">specimen received<' in page
