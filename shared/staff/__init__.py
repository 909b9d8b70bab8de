"""Staff: accounts and passwords, sign-in with lock-out, roles and what each may do, web sessions and the
audit log."""
