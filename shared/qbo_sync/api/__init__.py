"""HTTP routes of the settings page and the support view (Powertools Routers)."""
