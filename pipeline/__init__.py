"""minutes: Finnish meeting minutes into structured decision tables (the pure library)."""
