"""The manifest is the one declaration of the system: these checks keep it self-consistent."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

from speedrun import manifest
from speedrun.adapters.tables import MODELS

ROOT = Path(__file__).resolve().parents[2]


def test_function_names_are_unique_and_have_a_handler_module() -> None:
    names = [spec.name for spec in manifest.FUNCTIONS]
    assert len(names) == len(set(names))
    for name in names:
        assert (ROOT / "lambdas" / name / "handler.py").is_file(), f"lambdas/{name}/handler.py is missing"


def test_every_handler_module_exposes_a_callable_handler() -> None:
    for spec in manifest.FUNCTIONS:
        module = importlib.import_module(spec.module)
        assert callable(module.handler), spec.name


def test_http_route_keys_are_unique_and_well_formed() -> None:
    keys = [route.route_key for route, _ in manifest.http_routes()]
    assert [key for key, count in Counter(keys).items() if count > 1] == []
    for route, _ in manifest.http_routes():
        assert route.method in {"GET", "POST", "PUT", "DELETE", "PATCH"}
        assert route.path.startswith("/api/")


def test_websocket_routes_belong_to_exactly_one_function_and_one_authorizer_exists() -> None:
    keys = [key for key, _ in manifest.ws_routes()]
    assert sorted(keys) == sorted(set(keys))
    assert {"$connect", "$disconnect", "$default"} <= set(keys)
    assert sum(1 for spec in manifest.FUNCTIONS if spec.ws_authorizer) == 1


def test_every_queue_has_exactly_one_consumer_and_senders_name_real_queues() -> None:
    queue_names = {queue.name for queue in manifest.QUEUES}
    consumers = Counter(spec.queue_trigger for spec in manifest.FUNCTIONS if spec.queue_trigger)
    assert set(consumers) == queue_names
    assert all(count == 1 for count in consumers.values())
    for spec in manifest.FUNCTIONS:
        assert set(spec.needs.send_to_queues) <= queue_names, spec.name


def test_table_needs_name_declared_models() -> None:
    for spec in manifest.FUNCTIONS:
        assert set(spec.needs.tables) <= set(MODELS), spec.name


def test_functions_reaching_redis_or_the_question_store_are_placed_in_the_vpc() -> None:
    for spec in manifest.FUNCTIONS:
        assert spec.in_vpc == (spec.needs.redis or spec.needs.question_store is not None)
    assert not manifest.function("api_docs").in_vpc
