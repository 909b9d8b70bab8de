"""The FHIR side's errors: a refused Bundle names the entry, and an unreachable server names the address."""

from __future__ import annotations

from shared.store.errors import ClinicError, ValidationFailed


class BundleRefused(ValidationFailed):
    """A Bundle (or one of its entries) cannot be imported; the message names the entry and why."""


class ServerUnreachable(ClinicError):
    """The FHIR server did not answer, or answered with an error or with something that is not FHIR JSON."""
