"""The JSON Schema of the study file, generated from the pydantic model and shipped for editors.

Editors that validate YAML or JSON against a schema (VS Code's YAML extension, JetBrains IDEs) complete
and check a study file as it is typed when pointed at ``cba/data/study.schema.json`` (``docs/study-schema.md``
says how). The schema is :meth:`pydantic.BaseModel.model_json_schema` of :class:`cba.study_file.Study`
(JSON Schema draft 2020-12), so field names, types, bounds and descriptions come from the one model that
validates the study; ``tests/cba/test_study_schema.py`` fails when the shipped file and the model differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("data") / "study.schema.json"
"""The shipped schema."""


def study_json_schema() -> dict[str, Any]:
    """The study file's JSON Schema (draft 2020-12), with its title and dialect."""
    from coordstudio.cba.study_file import Study

    schema = Study.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Coordination Studio study",
        **schema,
    }


def study_schema_text() -> str:
    """The schema as the shipped file holds it (sorted keys, two-space indent, final newline)."""
    return json.dumps(study_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
