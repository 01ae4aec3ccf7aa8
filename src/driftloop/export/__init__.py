"""Exports of a pipeline to external orchestrators (Kestra flows)."""
