"""The speed-run engine: live run state in Redis (one atomic Lua script per action), scoring,
leaderboard coalescing, completion, and the WebSocket service on top (docs/engine.md).

Nothing is re-exported here: a handler imports the modules it uses, and pays for no others
at its cold start.
"""
