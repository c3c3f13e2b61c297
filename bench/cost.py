"""Dollars per run on AWS, from the counts of one engine run (bench.engine_run) and a price table.

Protocol revision 2: broadcasts go through the pushes queue (SQS standard) to the fan-out function,
which posts them to `@connections`; the speed-run and sign-on functions only hand them over.
Counted: WebSocket messages (in, route responses, @connections pushes, billed per 32 KB), Lambda
invocations (the fan-out's: ceil(deliveries / batch size)), Redis traffic, DynamoDB write units,
SQS requests (the pushes queue's sends as the publisher batches them, one receive and one batch
delete per fan-out invocation; completion jobs and deadlines). Assumed (ASSUMPTIONS): durations of
functions not driven here, the time one @connections call takes from Lambda, the lobby length.
The naive variant is the earlier protocol: every answer broadcasts the leaderboard to every
participant and the host (costed through the same fan-out).
"""

from __future__ import annotations

import math
from typing import Any

from speedrun import manifest
from speedrun.fanout.service import POST_THREADS, PUSHES_PER_SECOND

PRICES_DATE = "2025-06 (from memory, not checked against the live price pages)"
PRICES_NOTE = (
    "us-east-1 list prices as remembered for that date, not fetched from AWS: check https://aws.amazon.com/pricing"
)
PRICES: dict[str, tuple[float, str]] = {
    "ws_message": (1.00 / 1e6, "API Gateway WebSocket: per message (32 KB units), first 1 billion/month"),
    "ws_connection_minute": (0.25 / 1e6, "API Gateway WebSocket: per connection-minute"),
    "lambda_request": (0.20 / 1e6, "Lambda: per request"),
    "lambda_gb_second": (0.0000133334, "Lambda arm64: per GB-second (first 7.5 billion GB-s/month)"),
    "ecpu": (0.0034 / 1e6, "ElastiCache Serverless (Redis OSS): per ECPU"),
    "cache_gb_hour": (0.125, "ElastiCache Serverless (Redis OSS): per GB-hour stored (1 GB minimum)"),
    "dynamodb_wru": (0.625 / 1e6, "DynamoDB on-demand: per write request unit (1 KB)"),
    "sqs_fifo_request": (0.50 / 1e6, "SQS FIFO: per request (64 KB units)"),
    "sqs_request": (0.40 / 1e6, "SQS standard: per request (64 KB units)"),
}
ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "push_ms": (20.0, "ms one @connections POST takes from a Lambda in a VPC (median; bench.fanout models the spread)"),
    "fanout_record_ms": (3.0, "ms of a fan-out record besides its posts (parsing; a flush's Redis call)"),
    "fanout_invocation_ms": (5.0, "ms of a warm fan-out invocation besides its records"),
    "sqs_send_ms": (8.0, "ms one SQS send takes from a Lambda (a publish or a flush request)"),
    "signon_ms": (30.0, "ms per sign-on invocation (join: 2 Redis calls + token signing), its SQS send apart"),
    "authorizer_ms": (10.0, "ms per $connect authorizer invocation"),
    "reporter_ms_per_batch": (20.0, "ms per BatchWriteItem round trip from the reporter"),
    "lobby_minutes": (2.0, "minutes participants are connected before the start"),
    "esm_idle_receives_per_minute": (
        15.0,
        "ReceiveMessage the pushes queue's event source makes a minute anyway (long polls)",
    ),
    "bytes_per_ecpu": (1024.0, "ElastiCache bills 1 ECPU per KB transferred by simple commands"),
    "ecpu_per_script_call": (10.0, "ECPUs per Lua script call for its server CPU time (not published; a guess)"),
    "redis_resident_gb": (1.0, "GB of cache billed while the run lives (the 1 GB minimum)"),
}


def _price(name: str) -> float:
    return PRICES[name][0]


def _assumed(name: str) -> float:
    return ASSUMPTIONS[name][0]


def _lambda_cost(invocations: float, seconds_each: float, memory_mb: int) -> dict[str, float]:
    billed_s = math.ceil(seconds_each * 1000) / 1000  # billed per 1 ms
    gb_seconds = invocations * billed_s * memory_mb / 1024
    return {"invocations": invocations, "gb_seconds": gb_seconds}


def fanout_seconds(pushes: int, deliveries: int, invocations: int) -> float:
    """Modelled busy time of the fan-out function: posts spread over POST_THREADS but paced at
    PUSHES_PER_SECOND per invocation, plus each record's and each invocation's own time."""
    posting = max(pushes * _assumed("push_ms") / 1000 / POST_THREADS, pushes / PUSHES_PER_SECOND)
    return (
        posting
        + deliveries * _assumed("fanout_record_ms") / 1000
        + invocations * _assumed("fanout_invocation_ms") / 1000
    )


def run_cost(run: dict[str, Any], *, naive: bool = False) -> dict[str, Any]:
    """The cost of one run like `run` (an EngineRun summary), itemised; `naive` = the earlier protocol."""
    participants, answers = run["participants"], run["answers"]
    connections = participants + 1
    invocations = run["invocations"]
    # the WebSocket routes of the speed-run function (joins are sign-on's, costed below)
    actions = {name: stats for name, stats in run["actions"].items() if name in run["invocations"]}
    pushes_by_phase = dict(run["pushes_by_phase"])
    units = dict(run["message_units_by_phase"])
    deliveries = run["fanout_deliveries"]
    batch_size = run["fanout_batch_size"]
    queue_sends = dict(run["pushes_queue_sends_by_producer"])
    if naive:
        # Every answer: the leaderboard to every participant (top 10) and the host (all entries),
        # published by the answer (one batch send of its deliveries), posted by the fan-out.
        per_answer_units = participants * run["board_units_participant"] + run["board_units_host"]
        pushes_by_phase["game"] = run["naive_game_pushes"]
        units["game"] = answers * per_answer_units
        per_answer_deliveries = math.ceil(connections / 500)
        deliveries += answers * per_answer_deliveries
        queue_sends["action"] = queue_sends.get("action", 0) + answers * math.ceil(per_answer_deliveries / 10)
    fanout_invocations = math.ceil(deliveries / batch_size)
    inbound = sum(invocations.get(key, 0) for key in invocations if key not in ("$connect", "$disconnect"))
    messages = inbound * 2 + sum(units.values())  # each client frame + its route response, then the pushes
    connection_minutes = connections * (_assumed("lobby_minutes") + run["simulated_game_s"] / 60)
    pushes = sum(pushes_by_phase.values())
    sqs_send_s = _assumed("sqs_send_ms") / 1000

    speedrun_memory = manifest.function("speedrun").memory_mb
    mean_action_s = sum(actions[a]["mean_ms"] * actions[a]["count"] for a in actions) / 1000
    action_count = sum(actions[a]["count"] for a in actions)
    fanout_s = fanout_seconds(pushes, deliveries, fanout_invocations)
    lambdas = {
        "speedrun": _lambda_cost(
            action_count + connections,  # + one $disconnect per connection at the end
            (mean_action_s + queue_sends.get("action", 0) * sqs_send_s) / action_count,
            speedrun_memory,
        ),
        # sign-on: the join script, token signing, the flush the run asks for (no pushes: revision 2)
        "signon": _lambda_cost(
            participants + 1,
            _assumed("signon_ms") / 1000 + queue_sends.get("signon", 0) * sqs_send_s / participants,
            manifest.function("signon").memory_mb,
        ),
        "fanout": _lambda_cost(
            fanout_invocations,
            (fanout_s + queue_sends.get("fanout", 0) * sqs_send_s) / max(1, fanout_invocations),
            manifest.function("fanout").memory_mb,
        ),
        "ws_authorizer": _lambda_cost(
            connections, _assumed("authorizer_ms") / 1000, manifest.function("ws_authorizer").memory_mb
        ),
        "reporter": _lambda_cost(
            1,
            run["dynamodb_requests"].get("BatchWriteItem", 0) * _assumed("reporter_ms_per_batch") / 1000,
            manifest.function("reporter").memory_mb,
        ),
        "finalizer": _lambda_cost(1, 0.05, manifest.function("finalizer").memory_mb),
    }
    lambda_requests = sum(item["invocations"] for item in lambdas.values())
    lambda_gb_s = sum(item["gb_seconds"] for item in lambdas.values())

    redis_calls = run["redis_calls_total"]
    ecpus = max(run["redis_bytes_total"] / _assumed("bytes_per_ecpu"), redis_calls) + (
        run["redis_script_calls"] * _assumed("ecpu_per_script_call")
    )
    cache_hours = connection_minutes / connections / 60
    jobs = run["sqs_requests"].get("SendMessage", 0)  # completion job (FIFO) + deadline (standard), counted on moto
    run_minutes = _assumed("lobby_minutes") + run["simulated_game_s"] / 60
    pushes_queue = (
        sum(queue_sends.values())
        + 2 * fanout_invocations  # the event source's ReceiveMessage and DeleteMessageBatch per invocation
        + round(run_minutes * _assumed("esm_idle_receives_per_minute"))
    )

    lines = {
        "WebSocket messages": messages * _price("ws_message"),
        "WebSocket connection-minutes": connection_minutes * _price("ws_connection_minute"),
        "Lambda requests": lambda_requests * _price("lambda_request"),
        "Lambda GB-seconds": lambda_gb_s * _price("lambda_gb_second"),
        "ElastiCache ECPUs": ecpus * _price("ecpu"),
        "ElastiCache storage": _assumed("redis_resident_gb") * cache_hours * _price("cache_gb_hour"),
        "DynamoDB writes": run["dynamodb_wru"] * _price("dynamodb_wru"),
        # each sent, received and deleted
        "SQS requests (jobs)": jobs * 3 * _price("sqs_fifo_request"),
        "SQS requests (pushes queue)": pushes_queue * _price("sqs_request"),
    }
    return {
        "quantities": {
            "websocket_messages": messages,
            "pushes": pushes,
            "pushes_per_answer": round(pushes / answers, 3),
            "connection_minutes": round(connection_minutes, 1),
            "lambda_requests": lambda_requests,
            "fanout_invocations": fanout_invocations,
            "fanout_gb_seconds": round(lambdas["fanout"]["gb_seconds"], 3),
            "lambda_gb_seconds": round(lambda_gb_s, 2),
            "ecpus": round(ecpus),
            "dynamodb_wru": run["dynamodb_wru"],
            "sqs_requests_jobs": jobs * 3,
            "sqs_requests_pushes_queue": pushes_queue,
        },
        "dollars": {name: round(value, 6) for name, value in lines.items()},
        "total_dollars": round(sum(lines.values()), 4),
    }


TARGET_DOLLARS_PER_RUN = 0.25
TARGET_PUSHES_PER_ANSWER = 2.0
"""Revision 2's budget for a 1,000 x 20 run: pushes_total / answers, the lobby included."""


def cost_model(run: dict[str, Any]) -> dict[str, Any]:
    ours, naive = run_cost(run), run_cost(run, naive=True)
    return {
        "prices_date": PRICES_DATE,
        "prices_note": PRICES_NOTE,
        "prices": {name: {"usd": value, "what": what} for name, (value, what) in PRICES.items()},
        "assumptions": {name: {"value": value, "what": what} for name, (value, what) in ASSUMPTIONS.items()},
        "run": f"{run['participants']} x {run['questions']}",
        "coalesced": ours,
        "naive": naive,
        "naive_over_coalesced": round(naive["total_dollars"] / ours["total_dollars"], 1),
        "targets": {
            "dollars_per_run": TARGET_DOLLARS_PER_RUN,
            "pushes_per_answer": TARGET_PUSHES_PER_ANSWER,
            "met": ours["total_dollars"] <= TARGET_DOLLARS_PER_RUN
            and ours["quantities"]["pushes_per_answer"] <= TARGET_PUSHES_PER_ANSWER,
        },
    }
