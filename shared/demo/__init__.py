"""Demo data for `clinic up --demo`: stations, patients with plans, exercise pictures, one account per role."""
