"""What the inspector and the manager read: the weekly report (cleaning compliance, use, downtime, maintenance,
arrivals and waits, outcomes and adherence) as tables, CSV and PDF, and the audit log for a range."""
