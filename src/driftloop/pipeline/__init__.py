"""The loop: steps as plain functions, and the runner that records, locks and resumes them."""
