"""FHIR R4 with the clinic's EHR: the schedule comes in (Patients, Appointments), arrivals, plans and feedback go
back out (Appointment, Encounter, CarePlan + ServiceRequest, Observation).

`parse` reads Bundle JSON into the plain dataclasses of `parsed` (each resource's fields checked in
`resource_fields`) and `build` turns domain rows into resource dicts (all pure);
`importer.import_bundle` and `exporter.export_day` are the services (an explicit session, the caller's unit of
work); `client` speaks to a FHIR server's REST API over HTTP; `identifiers` edits a patient's EHR identifier.
"""
