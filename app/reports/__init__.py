"""Supervisor reports: SLA aggregates computed in SQL (repository) and shaped for the API (service).

Definitions of every number: docs/reports.md.
"""
