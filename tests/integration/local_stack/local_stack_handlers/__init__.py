"""Test-only handler modules for the local stack's gateway tests, wired through a manifest-shaped
spec (tests/integration/local_stack/local_stack_spec.py). Each records the events it receives in `RECEIVED`
so a test can check what the gateway built."""
