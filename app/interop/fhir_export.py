"""`wardwatch export fhir`: a bed's recorded observations of a period as a FHIR R4 transaction Bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_bundle(reader: Any, bed_id: str, start: float, end: float, out: Path) -> int:
    raise NotImplementedError("FHIR export is being built (interoperability issue)")
