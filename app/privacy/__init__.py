"""Personal data: the masking rule, keyed hashes, the access log, retention, data-subject rights.

See docs/privacy.md. `masking` and `scrub` are pure; the rest talk to the database through
`repository`.
"""
