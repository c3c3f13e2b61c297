"""The shared domain package of the speed-run platform (deployed as a Lambda layer)."""
