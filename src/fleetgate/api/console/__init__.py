"""The partner console at ``/console``: server-rendered pages, small scripts, live updates.

The pages are clients of the JSON APIs the gateway already has (Z-API's instance list with the
partner's Bearer token, GREEN-API's instance methods, the admin dead letters); the few JSON
routes of its own under ``/console/api`` exist where nothing fits (see docs/console.md).
"""
