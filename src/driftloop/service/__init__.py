"""Always on: ``driftloop serve`` — cron jobs, authenticated webhooks, metrics, the run API."""
