"""The fingerprint of a study: what a results database remembers of the study it was written for.

A fingerprint is the SHA-256 of a section's canonical JSON (keys sorted, the validated model dumped in
JSON mode, so the same content always gives the same hash whatever the file's layout, comments or key
order). One per section that shapes results, and one of the whole study:

* ``scenario``: what the simulation simulated; the same hash as
  :func:`simulation.db.fingerprint_of` of the scenario, stored in every run's ``fingerprint`` column;
* ``cba``: the cost-benefit parameters (prices, discount rate, day weights, ...);
* ``sgam``: the SGAM/ICT model (costs, the ICT check's stated figures);
* ``study``: the hash of the three (in this order), the study's fingerprint. The ``metadata`` (title,
  author, date) is left out on purpose: renaming a study does not make its results another study's.

The simulation stores all four with every run (as plain data: ``simulation`` knows no study); a reader
(:mod:`cba.stored_runs`) compares them with the study in hand and names the sections that differ.
Only a different ``scenario`` makes stored results unusable: re-appraising stored KPIs with edited CBA
parameters or an edited ICT model is what ``coordstudio cba`` is for.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from coordstudio.cba.study_file import Study

SECTIONS: tuple[str, ...] = ("scenario", "cba", "sgam")
"""The study's sections that have a fingerprint of their own, in the order the study's hash joins them."""


class StudyFingerprint(BaseModel):
    """The SHA-256 fingerprints (64 hex digits) of a study and of its sections."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    study: str = Field(description="SHA-256 of the section fingerprints joined in SECTIONS order (hex).")
    scenario: str = Field(description="SHA-256 of the scenario section's canonical JSON (hex).")
    cba: str = Field(description="SHA-256 of the cba section's canonical JSON (hex).")
    sgam: str = Field(description="SHA-256 of the sgam section's canonical JSON (hex).")

    def as_mapping(self) -> dict[str, str]:
        """``{"study": ..., "scenario": ..., "cba": ..., "sgam": ...}``: what the simulation stores."""
        return self.model_dump()

    def differing_sections(self, stored: dict[str, str]) -> list[str]:
        """The sections whose stored fingerprint differs from this one's (a section not stored is not
        listed: it cannot be told)."""
        mine = self.model_dump()
        return [s for s in SECTIONS if s in stored and stored[s] != mine[s]]


def study_fingerprint(study: Study) -> StudyFingerprint:
    """The fingerprints of ``study`` (module docstring)."""
    from coordstudio.simulation.db import fingerprint_of, spec_json_of

    sections = {
        "scenario": fingerprint_of(spec_json_of(study.scenario)),
        "cba": fingerprint_of(spec_json_of(study.cba)),
        "sgam": fingerprint_of(spec_json_of(study.sgam)),
    }
    joined = ":".join(sections[s] for s in SECTIONS)
    return StudyFingerprint(study=hashlib.sha256(joined.encode()).hexdigest(), **sections)


__all__ = ["SECTIONS", "StudyFingerprint", "study_fingerprint"]
