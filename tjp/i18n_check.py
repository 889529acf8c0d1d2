"""CI check: every translatable string is in each catalogue, translated, and compiled.

Extracts the strings afresh into a scratch copy (needs GNU gettext's xgettext) and compares.
Run as `python -m tjp.i18n_check`.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["es"]


def main() -> int:
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "src"
        shutil.copytree(
            ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".data", ".git", "node_modules")
        )
        env = {**os.environ, "DEBUG": "1"}
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-l",
                "es",
                "--no-obsolete",
                "--ignore=static",
                "-v0",
            ],
            cwd=copy,
            env=env,
            check=True,
        )
        for lang in LANGUAGES:
            committed = polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))
            fresh = polib.pofile(str(copy / "locale" / lang / "LC_MESSAGES" / "django.po"))
            known = {(e.msgctxt, e.msgid) for e in committed if not e.obsolete}
            for entry in fresh:
                if (entry.msgctxt, entry.msgid) not in known:
                    problems.append(f"{lang}: not in the catalogue: {entry.msgid!r}")
            for entry in committed:
                if entry.obsolete:
                    continue
                if "fuzzy" in entry.flags:
                    problems.append(f"{lang}: fuzzy: {entry.msgid!r}")
                elif not entry.translated():
                    problems.append(f"{lang}: untranslated: {entry.msgid!r}")
            mo = ROOT / "locale" / lang / "LC_MESSAGES" / "django.mo"
            if not mo.exists() or mo.stat().st_mtime < 0:
                problems.append(f"{lang}: django.mo missing")
            else:
                compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(mo))}
                for entry in committed.translated_entries():
                    if entry.msgid_plural:
                        continue
                    if compiled.get((entry.msgctxt, entry.msgid)) != entry.msgstr:
                        problems.append(f"{lang}: django.mo is out of date ({entry.msgid!r})")
                        break
    for problem in problems:
        print(problem)
    print(f"i18n check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
