"""API views (filled in by the app's endpoints)."""
