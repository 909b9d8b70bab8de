"""Demo data for `clinic seed --demo` and `clinic up --seed`: stations, patients with plans, exercise pictures,
one account per role."""
