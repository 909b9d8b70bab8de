"""Outcomes and adherence: questionnaires as data (FHIR R4 Questionnaire with a scoring rule), when each is due,
the answers and their scores, the home-exercise log written through a take-home link, and the alerts a high
pain answer raises for the therapist."""
