"""Pages of the staff app; each one checks the user's role before it shows anything."""
