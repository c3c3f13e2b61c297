"""Sign-on (http-api.md, Sign-on; GET /api/openapi.json): open a speed-run, join one, and check a run token at $connect
(docs/signon-and-tokens.md).

Nothing is re-exported here: a handler imports the modules it uses, and pays for no others
at its cold start.
"""
