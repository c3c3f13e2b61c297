"""Asynchronous fan-out (architecture rule 9): a frame's handler hands its broadcasts to the pushes
queue (`publisher.FanOutQueue`) and returns; the fan-out function (`service.FanOutService`) posts
them to `@connections` in paced parallel batches, retrying throttling and dropping stale connections.
The modules are imported one by one: a producer loads only the publisher."""
