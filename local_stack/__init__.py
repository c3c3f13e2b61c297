"""The local stack: the whole platform on one machine, one process, one port.

It runs the same handler functions the manifest (`speedrun.manifest`) declares, fed with the same
events API Gateway (HTTP API v2, WebSocket) and SQS event source mappings would build, against moto
(DynamoDB, SQS, Secrets Manager, Cognito) and a local Redis. See docs/local-stack.md.
"""
