"""Open311 GeoReport v2: other apps and city systems file and follow CivicDesk reports."""
