"""Equity tables and page on a small hand-built cohort whose answers are worked out by hand.

The cohort of `program` (smallest group shown: 3; flag threshold: 20%), referred 60 days ago;
the admitted entered 50 days ago and are still active, the declined were declined 55 days ago:

| race / ethnicity | admitted | declined | admission rate | sex | notes |
|---|---|---|---|---|---|
| Hispanic | H1-H4 | 1 | 4/5 = 80.0  | male   | H1 arrested 10 days ago |
| White    | W1-W4 | 2 | 4/6 = 66.7  | female | |
| Black    | K1-K3 | 0 | 3/3 = 100.0 | female | hidden: the next smallest group |
| Asian    | A1    | 0 | 1/1 = 100.0 | female | hidden: fewer than 3 people |

Whole program: 12 of 15 referrals admitted (80.0); one arrest over 12 participants' days.
"""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from participants import services
from participants.models import Person
from reporting import equity, measures
from reporting.equity import FIGURES, equity_table, equity_tables, groups
from reporting.params import ReportParams, year_ending
from tests.factories import ParticipantFactory, PersonFactory, admit
from tests.reporting.test_dashboard import _number, parse_tables
from tests.reporting.test_measures import cohort  # noqa: F401  (the measures' hand-built cohort)
from tjp.access import grant_program_staff
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

URL = reverse("reporting_equity")
R = Person.RaceEthnicity
COLUMN = {f.key: 3 + i for i, f in enumerate(FIGURES)}  # after the group and its two sizes


class Referrals:
    def __init__(self, program, by):
        self.program, self.by = program, by
        self.today = program_today(program)

    def referral(self, *, substance="", referred_days_ago=60, **person):
        return ParticipantFactory(
            program=self.program,
            person=PersonFactory(**person),
            primary_substance=substance,
            referred_on=self.today - timedelta(days=referred_days_ago),
            arrest_date=self.today - timedelta(days=referred_days_ago + 5),
        )

    def admitted(self, **kwargs):
        return admit(self.referral(**kwargs), by=self.by, entry_days_ago=50)

    def declined(self, **kwargs):
        return services.admission_decide(
            acting_user=self.by,
            participant=self.referral(**kwargs),
            admit=False,
            reasons="Not eligible.",
            decided_on=self.today - timedelta(days=55),
        )


@pytest.fixture
def referrals(program, personas):
    program.equity_min_group = 3
    program.save(update_fields=["equity_min_group"])
    return Referrals(program, personas[Role.COORDINATOR])


@pytest.fixture
def people(referrals):
    made = {}
    for race, sex, admitted, declined in [
        (R.HISPANIC, "male", 4, 1),
        (R.WHITE, "female", 4, 2),
        (R.BLACK, "female", 3, 0),
        (R.ASIAN, "female", 1, 0),
    ]:
        made[race] = [referrals.admitted(race_ethnicity=race, sex=sex) for _ in range(admitted)]
        for _ in range(declined):
            referrals.declined(race_ethnicity=race, sex=sex)
    services.arrest_record(
        acting_user=referrals.by,
        participant=made[R.HISPANIC][0],
        arrested_on=referrals.today - timedelta(days=10),
        charge="Theft",
    )
    return made


@pytest.fixture
def params(program):
    end = program_today(program)
    return ReportParams(programs=(program,), start=year_ending(end), end=end)


def _days(participants, params) -> int:
    return sum((params.end - p.entry_date).days + 1 for p in participants)


def _rows(table) -> dict:
    return {row[0]: row for row in table.rows}


# --- the figures -----------------------------------------------------------------------------
def test_admission_rate_counts_declined_referrals(cohort):  # noqa: F811
    """The measures' cohort: 7 referrals in the period (B1, B2, C, D, E, F, G), F declined."""
    year = ReportParams(programs=(cohort.program,), start=cohort.day(364), end=cohort.today)
    assert measures.admission_rate(year).rows == [[7, 6, 1, 85.7, 0]]
    # Up to T-95: G (referred T-95) entered and F (referred T-100) was declined after the end:
    # neither was decided by then; B1, B2, C, D and E were admitted.
    earlier = ReportParams(programs=(cohort.program,), start=cohort.day(459), end=cohort.day(95))
    assert measures.admission_rate(earlier).rows == [[5, 5, 0, 100.0, 2]]


def test_referrals_in_screening_are_left_out_of_the_rate(people, referrals, params):
    referrals.referral(race_ethnicity=R.HISPANIC)  # not decided yet
    assert measures.admission_rate(params).rows == [[15, 12, 3, 80.0, 1]]


def test_groups_split_the_program(people, params):
    found = groups(params, equity.BY_KEY["race_ethnicity"])
    assert [(g.label, g.decided, g.enrolled) for g in found] == [
        ("Hispanic or Latino/a", 5, 4),
        ("White", 6, 4),
        ("Black or African American", 3, 3),
        ("Asian", 1, 1),
    ]
    by_sex = groups(params, equity.BY_KEY["sex"])
    assert [(g.label, g.decided, g.enrolled) for g in by_sex] == [
        ("Female", 10, 8),
        ("Male", 5, 4),
    ]
    men = by_sex[1].episodes
    assert men.count() == 5
    assert set(men.filter(entry_date__isnull=False)) == set(people[R.HISPANIC])
    assert [g.label for g in groups(params, equity.BY_KEY["gender"])] == ["Not recorded"]


def test_age_bands_are_the_age_on_the_referral_day(referrals, params):
    referred = referrals.today - timedelta(days=60)

    def born(years, days=0):
        return referred - relativedelta(years=years) + timedelta(days=days)

    # 17 (18 the next day), 18, 25, 26, 55, 56 on the referral day.
    for dob in [born(18, 1), born(18), born(26, 1), born(26), born(56, 1), born(56)]:
        referrals.declined(date_of_birth=dob)
    found = groups(params, equity.BY_KEY["age_band"])
    assert [(g.label, g.decided) for g in found] == [
        ("Under 18", 1),
        ("18 to 25", 2),
        ("26 to 35", 1),
        ("46 to 55", 1),
        ("56 and over", 1),
    ]


def test_substances_are_normalised_and_the_rare_ones_grouped(referrals, params):
    for text in ["Alcohol", " alcohol", "ALCOHOL  ", "cocaine", "Cocaine", ""]:
        referrals.declined(substance=text)
    singles = [f"substance {c}" for c in "abcdefgh"]
    for text in singles:
        referrals.declined(substance=text)
    found = groups(params, equity.BY_KEY["primary_substance"])
    named = ["alcohol", "cocaine", *singles[:6]]
    assert [(g.label, g.decided) for g in found] == [
        *[(label, 3 if label == "alcohol" else 2 if label == "cocaine" else 1) for label in named],
        ("Other", 2),
        ("Not recorded", 1),
    ]
    other = {p.primary_substance for p in found[-2].episodes}
    assert other == set(singles[6:])


def test_the_whole_program_row_is_the_dashboards(cohort):  # noqa: F811
    params = ReportParams(programs=(cohort.program,), start=cohort.day(364), end=cohort.today)
    whole = equity_table(params, "race_ethnicity").rows[0]
    assert whole[0] == "Whole program"
    assert whole[3:8] == [85.7, 50.0, 33.3, 125.0, 0.57]  # as in test_measures
    assert whole[COLUMN["arrests"]] == 3.17
    assert whole[COLUMN["jail_days"]] == 3.0  # 2 and 4 days
    tables = {t.key: t for t in measures.all_tables(params)}
    for figure in FIGURES[1:]:
        assert whole[COLUMN[figure.key]] == figure.read(tables[figure.measure.definition.key])


def test_flags_and_hidden_groups(people, params):
    table = equity_table(params, "race_ethnicity")
    assert table.key == "equity_race_ethnicity"
    assert table.columns[:3] == ["Race / ethnicity", "Referrals decided", "Participants enrolled"]
    assert table.columns[-1] == "Flagged"
    rows = _rows(table)
    everyone = people[R.HISPANIC] + people[R.WHITE] + people[R.BLACK] + people[R.ASIAN]
    per_thousand = round(1000 / _days(everyone, params), 2)
    hispanic = round(1000 / _days(people[R.HISPANIC], params), 2)
    program = rows["Whole program"]
    assert program[:4] == ["Whole program", 15, 12, 80.0]
    assert program[COLUMN["arrests"]] == per_thousand
    assert program[-1] == ""
    # The arrest puts Hispanic participants above the program and White ones below it; White's
    # admission rate (66.7) is 16.6% below the program's: under the 20% threshold.
    assert rows["Hispanic or Latino/a"][1:4] == [5, 4, 80.0]
    assert rows["Hispanic or Latino/a"][COLUMN["arrests"]] == hispanic
    assert rows["Hispanic or Latino/a"][-1] == "Arrests per 1,000 participant-days ↑"
    assert rows["White"][1:4] == [6, 4, 66.7]
    assert rows["White"][-1] == "Arrests per 1,000 participant-days ↓"
    # Asian: 1 person; Black, the next smallest, hidden with it. Neither flagged.
    assert rows["Asian"][1:-1] == ["fewer than 3", "fewer than 3", *[None] * len(FIGURES)]
    assert rows["Black or African American"][1:] == ["not shown", "not shown"] + [None] * len(
        FIGURES
    ) + [""]
    assert table.notes == [
        "Flagged (↑ above, ↓ below): a figure of a group that differs from the whole program's "
        "by more than 20% of the program's figure.",
        "Groups with fewer than 3 people referred or enrolled in the period are not shown, so "
        "that nobody can be recognised.",
        "1 group not shown: fewer than 3 people.",
        "One more group not shown, the next smallest, so that the hidden group cannot be worked "
        "out from the whole program's numbers.",
    ]


@pytest.mark.parametrize("threshold, flagged", [(16, True), (17, False), (100, False)])
def test_a_flag_needs_a_difference_beyond_the_threshold(people, params, threshold, flagged):
    # White's admission rate 66.7 against 80.0: 13.3 points, 16.6% of the program's figure.
    white = _rows(equity_table(params, "race_ethnicity", threshold=threshold))["White"]
    assert ("Admission rate (%) ↓" in white[-1]) is flagged
    # The arrest difference (100% of the program's figure) is not beyond a 100% threshold.
    assert ("Arrests per 1,000 participant-days ↓" in white[-1]) is (threshold < 100)


def test_disparity_rule():
    assert equity.disparity(60.0, 50.0, 20) == ""  # exactly 20%: not more
    assert equity.disparity(60.1, 50.0, 20) == equity.ABOVE
    assert equity.disparity(39.9, 50.0, 20) == equity.BELOW
    assert equity.disparity(0.5, 0, 20) == equity.ABOVE  # anything differs from nothing
    assert equity.disparity(0, 0, 20) == ""
    assert equity.disparity(None, 50.0, 20) == equity.disparity(5.0, None, 20) == ""


def test_two_small_groups_need_no_complementary_one(people, referrals, params):
    referrals.admitted(race_ethnicity=R.INDIGENOUS)
    rows = _rows(equity_table(params, "race_ethnicity"))
    assert rows["Indigenous / American Indian or Alaska Native"][1] == "fewer than 3"
    assert rows["Black or African American"][1:4] == [3, 3, 100.0]
    assert rows["Asian"][1] == "fewer than 3"


def test_min_group_can_be_raised_never_lowered(people, params):
    raised = _rows(equity_table(params, "race_ethnicity", min_group=5))
    # Hispanic (4 enrolled) and White (4) are now small too.
    assert raised["Hispanic or Latino/a"][1:3] == ["not shown", "fewer than 5"]
    assert raised["White"][3] is None
    lowered = _rows(equity_table(params, "race_ethnicity", min_group=1))
    assert lowered["Asian"][3] is None  # still the program's 3


def test_several_programs_take_the_strictest_settings(program, other_program):
    program.equity_disparity_percent, other_program.equity_disparity_percent = 25, 15
    program.equity_min_group, other_program.equity_min_group = 5, 12
    assert equity.default_threshold([program, other_program]) == 15
    assert equity.smallest_group([program, other_program]) == 12


def test_every_dimension_is_exported(people, params):
    tables = equity_tables(params)
    assert [t.key for t in tables] == [
        "equity_race_ethnicity",
        "equity_sex",
        "equity_gender",
        "equity_age_band",
        "equity_primary_substance",
    ]
    substance = tables[-1]
    assert [r[0] for r in substance.rows] == ["Whole program", "Not recorded"]
    assert substance.rows[1][3:] == [*substance.rows[0][3:-1], ""]


# --- the page --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role, status",
    [
        (Role.JUDGE, 200),
        (Role.PROSECUTOR, 200),
        (Role.COORDINATOR, 200),
        (Role.MANAGER, 200),
        (Role.DEFENDER, 403),
        (Role.CLINICIAN, 403),
        (Role.ADMINISTRATOR, 403),
    ],
)
def test_who_may_see_the_equity_page(personas, participant, as_user, role, status):
    response = as_user(personas[role]).get(URL)
    assert response.status_code == status
    if status == 200:
        assert 'data-testid="table-equity_race_ethnicity"' in response.content.decode()


def test_another_programs_uuid_is_not_found(personas, other_program, program, as_user):
    client = as_user(personas[Role.MANAGER])
    assert client.get(URL, {"program": str(other_program.uuid)}).status_code == 404
    assert client.get(URL, {"program": str(program.uuid)}).status_code == 200


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"threshold": "abc"}, "threshold", "Enter a whole number."),
        ({"threshold": "0"}, "threshold", "greater than or equal to 1"),
        ({"threshold": "101"}, "threshold", "less than or equal to 100"),
        ({"min_group": "2"}, "min_group", "cannot be below the programs' setting (3)"),
        ({"min_group": "x"}, "min_group", "Enter a whole number."),
        ({"by": "shoe_size"}, "by", "Select a valid choice."),
    ],
)
def test_bad_options_are_refused(referrals, personas, as_user, query, field, message):
    response = as_user(personas[Role.MANAGER]).get(URL, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html and escape(message) in html
    assert "<table" not in html


def test_the_page_shows_the_table(people, params, personas, as_user):
    query = {**params.as_query(), "by": ["race_ethnicity", "sex"]}
    response = as_user(personas[Role.JUDGE]).get(URL, query)
    assert response.status_code == 200
    html = response.content.decode()
    shown = parse_tables(html)
    race = shown["table-equity_race_ethnicity"]
    table = equity_table(params, "race_ethnicity")
    assert [row[0] for row in race] == [
        "Whole program",
        "Hispanic or Latino/a",
        "White",
        "Black or African American not shown",
        "Asian not shown",
    ]
    for page_row, row in zip(race, table.rows, strict=True):
        for text, value in zip(page_row[1:-1], row[1:-1], strict=True):
            if value is None:
                assert text == "—"
            elif isinstance(value, str):
                assert text == value
            else:
                number = text.split()[0]  # a flagged cell carries its badge
                assert _number(number, "en") == pytest.approx(value)
    # Flagged cells carry a badge with words, not colour alone; hidden rows show nothing.
    assert race[1][COLUMN["arrests"]].endswith("↑ higher")
    assert race[2][COLUMN["arrests"]].endswith("↓ lower")
    badges = [cell for row in race for cell in row[1:-1] if cell.endswith(("higher", "lower"))]
    assert len(badges) == 2
    assert html.count('data-testid="flag"') == 4  # and Male ↑, Female ↓ in the sex table
    assert race[3][1:] == ["not shown", "not shown", *["—"] * len(FIGURES), ""]
    assert race[4][1:] == ["fewer than 3", "fewer than 3", *["—"] * len(FIGURES), ""]
    assert 'data-suppressed="small"' in html and 'data-suppressed="complementary"' in html
    assert "1 group not shown: fewer than 3 people." in html
    assert [row[0] for row in shown["table-equity_sex"]] == ["Whole program", "Female", "Male"]
    # Each figure's definition, from its measure.
    assert measures.admission_rate.definition.text in html
    assert measures.recidivism.definition.text in html


def test_the_threshold_and_smallest_group_can_be_changed_on_the_page(
    people, params, personas, as_user
):
    client = as_user(personas[Role.COORDINATOR])
    page = client.get(URL, {**params.as_query(), "threshold": "16", "min_group": "4"})
    race = parse_tables(page.content.decode())["table-equity_race_ethnicity"]
    white = next(row for row in race if row[0] == "White")
    assert white[COLUMN["admission_rate"]] == "66.7 ↓ lower"
    black = next(row for row in race if row[0].startswith("Black"))
    assert black[1:3] == ["fewer than 4", "fewer than 4"]


def test_spanish(people, params, personas, as_user, client):
    as_user(personas[Role.COORDINATOR])
    client.cookies["django_language"] = "es"
    response = client.get(URL, params.as_query(), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    race = parse_tables(html)["table-equity_race_ethnicity"]
    assert race[2][0] == "Blanco(a)"
    assert race[2][COLUMN["admission_rate"]] == "66,7"  # decimal comma
    assert '<th scope="col" class="text-end">Retención (%)</th>' in html


def test_viewing_is_audited(people, params, personas, as_user, program):
    query = {**params.as_query(), "by": "sex"}
    as_user(personas[Role.PROSECUTOR]).get(URL, query)
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, actor=personas[Role.PROSECUTOR])
    assert event.program == program
    assert event.detail == {
        "equity": params.as_query(),
        "by": ["sex"],
        "threshold": 20,
        "min_group": 3,
    }


def test_a_manager_of_several_programs_gets_the_strictest_settings(
    people, personas, as_user, other_participant
):
    manager = personas[Role.MANAGER]
    grant_program_staff(manager, other_participant.program)
    other_participant.program.equity_min_group = 5
    other_participant.program.save(update_fields=["equity_min_group"])
    html = as_user(manager).get(URL).content.decode()
    assert "Groups with fewer than 5 people" in html
    assert as_user(manager).get(URL, {"min_group": "4"}).status_code == 400


def test_the_number_of_queries_does_not_grow_with_the_program(
    people, referrals, params, personas, as_user
):
    client = as_user(personas[Role.MANAGER])
    query = params.as_query()
    client.get(URL, query)  # warm up (session, permissions caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL, query).status_code == 200
    for race in (R.HISPANIC, R.WHITE):
        for _ in range(3):
            p = referrals.admitted(race_ethnicity=race)
            services.arrest_record(
                acting_user=referrals.by,
                participant=p,
                arrested_on=referrals.today - timedelta(days=5),
                charge="Theft",
            )
        referrals.declined(race_ethnicity=race)
    with CaptureQueriesContext(connection) as large:
        page = client.get(URL, query)
    race = parse_tables(page.content.decode())["table-equity_race_ethnicity"]
    assert race[0][1:3] == ["23", "18"]  # the larger program is the one shown
    assert len(large) == len(small)
