"""Players: profile and progress commands (queued), the worker that applies them, point reads.

Nothing is re-exported here: a handler imports the modules it uses, and pays for no others
at its cold start.
"""
