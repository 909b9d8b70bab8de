"""FHIR test support: R4 validation with maintained model libraries, Bundles as an EHR sends them, and a small
FHIR server on loopback (a real http.server) that serves search pages and records posted transactions.

Validation: `fhirclient` 4.x models are generated from FHIR 4.0.1 (R4 itself: element names, types,
cardinality, required elements, primitive formats); `fhir.resources` has no release with R4 for pydantic 2 (6.x
is R4 on pydantic 1, 7.x and 8.x ship R5 and R4B), so its R4B models add stricter primitive checks (positive
integers, ids) on resources that are the same in R4 and R4B. Neither checks required code bindings, so the
statuses used here are checked against the R4 value sets below.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhirclient.models.fhirabstractbase import FHIRValidationError

R4_CODES = {  # required bindings in R4 (4.0.1)
    ("Appointment", "status"): {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                                "entered-in-error", "checked-in", "waitlist"},
    ("Encounter", "status"): {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
                              "entered-in-error", "unknown"},
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("ServiceRequest", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                                   "unknown"},
    ("ServiceRequest", "intent"): {"proposal", "plan", "directive", "order", "original-order", "reflex-order",
                                   "filler-order", "instance-order", "option"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                "entered-in-error", "unknown"},
    ("QuestionnaireResponse", "status"): {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    ("Questionnaire", "status"): {"draft", "active", "retired", "unknown"},
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response", "batch", "batch-response",
                         "history", "searchset", "collection"},
}  # fmt: skip
FHIRCLIENT_MODULES = {"ServiceRequest": "servicerequest", "CarePlan": "careplan"}


class NotR4(AssertionError):
    """A resource that is not valid FHIR R4."""


def validate_r4(resource: dict[str, Any]) -> None:
    """Raise NotR4 unless the resource is valid R4 (both libraries, and the required codes used here)."""
    kind = resource["resourceType"]
    module = importlib.import_module(f"fhirclient.models.{FHIRCLIENT_MODULES.get(kind, kind.lower())}")
    try:
        getattr(module, kind)(json.loads(json.dumps(resource)), strict=True)
    except FHIRValidationError as exc:
        raise NotR4(f"{kind} is not R4 (fhirclient): {exc}") from None
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except ValueError as exc:
        raise NotR4(f"{kind} is not valid (fhir.resources R4B): {exc}") from None
    for (of, name), allowed in R4_CODES.items():
        if of == kind and name in resource and resource[name] not in allowed:
            raise NotR4(f"{kind}.{name} {resource[name]!r} is not in the R4 value set")


def validate_bundle(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate the Bundle and every resource in it; the resources."""
    validate_r4(bundle)
    resources = [item["resource"] for item in bundle.get("entry", [])]
    for resource in resources:
        validate_r4(resource)
    return resources


MRN = "http://ehr.example/mrn"
APPOINTMENTS = "http://ehr.example/appointment"


def patient(pid: str, *, mrn: str, given: str = "Maria", family: str = "Gonzalez", born: str = "1950-04-17",
            phone: str | None = "+1 555 0100") -> dict[str, Any]:  # fmt: skip
    """A Patient as an EHR exports one: an MRN typed MR, names, a birth date, a phone."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": f"999-00-{mrn[-4:]}"},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
             "system": MRN, "value": mrn},
        ],
        "name": [{"use": "official", "family": family, "given": [given, "Luisa"]}],
        "birthDate": born,
    }  # fmt: skip
    if phone:
        resource["telecom"] = [{"system": "phone", "value": phone, "use": "mobile"}]
    return resource


def appointment(aid: str, *, patient_ref: str, start: str, minutes: int | None = 45, status: str = "booked",
                clinician: str = "Alex Kim") -> dict[str, Any]:  # fmt: skip
    """An Appointment as an EHR exports one: its identifier, the patient and the practitioner."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": aid,
        "identifier": [{"system": APPOINTMENTS, "value": aid}],
        "status": status,
        "start": start,
        "participant": [
            {"actor": {"reference": patient_ref}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/pr-1", "display": clinician}, "status": "accepted"},
        ],
    }
    if minutes is not None:
        resource["minutesDuration"] = minutes
    return resource


def bundle(*resources: dict[str, Any], kind: str = "collection", base: str = "http://ehr.example/fhir") -> dict:
    """A Bundle of these resources with RESTful fullUrls."""
    entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


@dataclass
class FhirServer:
    """What the loopback server serves and what it was sent."""

    base: str
    pages: list[dict[str, Any]] = field(default_factory=list)  # searchset pages, `next` links added
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path with query)
    posted: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    outcome: str | None = None  # with status >= 400, an OperationOutcome's diagnostics


@contextmanager
def fhir_server() -> Iterator[FhirServer]:
    """A FHIR server on 127.0.0.1 (a free port) whose base is /fhir; stopped at the end."""
    state = FhirServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _failed(self) -> bool:
            if state.status < 400:
                return False
            issue = {"severity": "error", "code": "exception", "diagnostics": state.outcome or "failed"}
            self._answer(state.status, {"resourceType": "OperationOutcome", "issue": [issue]})
            return True

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path))
            if self._failed():
                return
            number = int(self.path.split("page=")[1]) if "page=" in self.path else 0
            page = dict(state.pages[number])
            if number + 1 < len(state.pages):
                page["link"] = [{"relation": "next", "url": f"{state.base}/Appointment?page={number + 1}"}]
            self._answer(200, page)

        def do_POST(self) -> None:
            state.requests.append(("POST", self.path))
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.posted.append(body)
            if self._failed():
                return
            results = [{"response": {"status": "201 Created"}} for _ in body.get("entry", [])]
            self._answer(200, {"resourceType": "Bundle", "type": "transaction-response", "entry": results})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
