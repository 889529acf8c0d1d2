"""The settings module refuses insecure production configurations."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-like-secret-key-value-0123456789",
    "ALLOWED_HOSTS": "tjp.example.org",
}


def _run(args, **env):
    full = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True
    )


def test_missing_secret_key_is_an_error_when_debug_is_off():
    result = _run(["check"], **{**PROD, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_missing_allowed_hosts_is_an_error_when_debug_is_off():
    result = _run(["check"], **{**PROD, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_check_deploy_is_clean_with_production_env():
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_on_needs_nothing():
    result = _run(["check"], DEBUG="1")
    assert result.returncode == 0, result.stderr


# --- Files and databases chosen by the environment (read in a fresh process each) -------------
CHOSEN_BY_ENV = (
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_ADDRESSING_STYLE",
    "AWS_LOCATION",
    "AWS_S3_SERVER_SIDE_ENCRYPTION",
    "AWS_S3_SSE_KMS_KEY_ID",
    "DATABASE_REPLICA_URL",
)
PROBE = """
import json
from django.conf import settings
from django.core.files.storage import default_storage, storages
from participants.models import Document
s = storages["default"]
print(json.dumps({
    "backend": f"{type(s).__module__}.{type(s).__name__}",
    "documents_use_it": Document._meta.get_field("file").storage is default_storage,
    "s3": {
        key: getattr(s, key)
        for key in ("bucket_name", "endpoint_url", "region_name", "default_acl",
                    "querystring_auth", "file_overwrite", "object_parameters")
    } if hasattr(s, "bucket_name") else None,
    "url": s.url("documents/2026/03/x.pdf") if hasattr(s, "bucket_name") else None,
    "location": str(s.location) if hasattr(s, "base_location") else None,
    "databases": {
        alias: {
            **{k: config[k] for k in ("HOST", "NAME", "USER", "CONN_MAX_AGE")},
            "options": config["OPTIONS"].get("options"),
            "mirror": config.get("TEST", {}).get("MIRROR"),
        }
        for alias, config in settings.DATABASES.items()
    },
    "routers": settings.DATABASE_ROUTERS,
}))
"""


def _probe(**env) -> dict:
    full = {k: v for k, v in os.environ.items() if k not in CHOSEN_BY_ENV}
    full.update({"DEBUG": "1", "MEDIA_ROOT": "/srv/tjp-media", **env})
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_documents_and_exports_are_files_under_media_root_by_default():
    chosen = _probe()
    assert chosen["backend"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert chosen["location"] == "/srv/tjp-media" and chosen["documents_use_it"]


def test_a_bucket_named_puts_them_in_private_s3_compatible_storage():
    chosen = _probe(
        AWS_STORAGE_BUCKET_NAME="court-documents",
        AWS_S3_ENDPOINT_URL="https://objects.example.org",
        AWS_S3_REGION_NAME="us-east-1",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="not-a-real-secret",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_S3_SERVER_SIDE_ENCRYPTION="aws:kms",
        AWS_S3_SSE_KMS_KEY_ID="alias/tjp-documents",
    )
    assert chosen["backend"] == "storages.backends.s3.S3Storage" and chosen["documents_use_it"]
    assert chosen["s3"] == {
        "bucket_name": "court-documents",
        "endpoint_url": "https://objects.example.org",
        "region_name": "us-east-1",
        "default_acl": None,  # no ACL sent: the bucket's own (private) applies
        "querystring_auth": True,
        "file_overwrite": False,
        "object_parameters": {
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": "alias/tjp-documents",
        },
    }
    # Any URL the storage could make is signed and expires in a minute (none is handed out).
    url = chosen["url"]
    assert url.startswith("https://objects.example.org/court-documents/documents/2026/03/x.pdf?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url


def test_without_a_replica_url_there_is_one_database_and_no_router():
    chosen = _probe()
    assert list(chosen["databases"]) == ["default"] and chosen["routers"] == []


def test_a_replica_url_adds_the_replica_and_its_router():
    chosen = _probe(DATABASE_REPLICA_URL="postgres://reader@replica.example.org:5432/tjp")
    assert chosen["routers"] == ["tjp.db_routers.ReplicaRouter"]
    replica = chosen["databases"]["replica"]
    assert replica == {
        "HOST": "replica.example.org",
        "NAME": "tjp",
        "USER": "reader",
        "CONN_MAX_AGE": chosen["databases"]["default"]["CONN_MAX_AGE"],
        "options": "-c jit=off",
        "mirror": "default",  # under test: the test database itself, no second one
    }
