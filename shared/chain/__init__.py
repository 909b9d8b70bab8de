"""A clinic chain's center: the site registry, equipment registrations synced from the sites, the chain overview."""
