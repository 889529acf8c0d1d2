"""Name search over a trigram index: pg_trgm, and two immutable SQL functions (a GIN index can
only hold immutable expressions; unaccent() itself is only stable because its dictionary could
change). Every name in the bodies is schema-qualified, so the index is rebuilt alike under
pg_restore's empty search_path."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

import participants.models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION public.tjp_normalise(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;
CREATE OR REPLACE FUNCTION public.tjp_person_name(first text, last text, second text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT public.tjp_normalise(pg_catalog.concat_ws(' ', first, last, NULLIF(second, ''))) $$;
"""
DROP = """
DROP FUNCTION IF EXISTS public.tjp_person_name(text, text, text);
DROP FUNCTION IF EXISTS public.tjp_normalise(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0003_view_disclosures"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(FUNCTIONS, DROP),
        migrations.AddIndex(
            model_name="person",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    participants.models.PersonName(), name="gin_trgm_ops"
                ),
                name="person_name_trgm",
            ),
        ),
    ]
