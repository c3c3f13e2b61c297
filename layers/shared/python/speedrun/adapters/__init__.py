"""The adapters: what the domain packages reach AWS and Redis through, each behind a small interface.

`redis_client` (ElastiCache/Redis), `tables` (the DynamoDB tables' models), `connections` (API
Gateway's `@connections`), `queues` (the SQS job queues), `tokens` (run tokens signed with keys from
Secrets Manager), `identity` (Cognito ID tokens checked against the pool's keys), `image_store`
(question images in S3, or a folder locally). The domain packages (`engine`, `signon`, `reporting`,
`players`, `question_sets`, `fanout`) hold the rules and call these; the handlers in `lambdas/` wire
the two together. Nothing is re-exported here.
"""
