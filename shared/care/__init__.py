"""Patient care at the clinic: patients, cards, appointments and their allowed status changes, the exercise
library, plans and plan import, today's plan, check-in and the lobby's scan (lobby_scan: one use case per patient
action), arrivals, walk-ins and feedback."""
