"""Patient care at the clinic: patients, cards, appointments and their allowed status changes, the exercise
library, plans and plan import, today's plan, check-in, arrivals, walk-ins and feedback."""
