"""Where data comes from and where it goes: sources, the warehouse, the demo data."""
