"""Actions taken when drift matters: notify people, publish models."""
