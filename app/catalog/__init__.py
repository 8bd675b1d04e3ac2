"""The catalog: areas (with their former names), topics and units, and the shared vocabulary.

Pure (standard library, pydantic-free dataclasses, ruamel.yaml for reading): no database, no web
framework, no settings. Routing, SLA, tickets and reports all import it; the database copy of the
catalog (tables and sync) is app.reference.

Modules: vocabulary (channels, priorities, weekdays, statuses, the default time zone), catalog
(Catalog and its lookups), resolver (an area as people say it), loader (routing_rules/ ->
Catalog), source (YAML with line numbers; the one problem type and error family of every
loader), codes (unit/topic/area codes given by a client, checked), area_errors (area texts that
cannot be read, as field errors).
"""
