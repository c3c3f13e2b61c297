"""Durable results: the reporter, the event store, the run read models and their readers.

Nothing is re-exported here: a handler imports the modules it uses, and pays for no others
at its cold start.
"""
