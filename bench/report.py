"""Markdown tables from `bench/results/*.json`, written into `docs/performance.md` between markers
(`<!-- bench:<name> -->` ... `<!-- /bench:<name> -->`), and the scale-curve plot."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.engine_run import JOIN

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "img" / "scale-curve.png"
FANOUT_PLOT = ROOT / "docs" / "img" / "fanout-model.png"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine_section(machine: dict[str, Any]) -> str:
    dirty = " (with uncommitted changes)" if machine.get("commit_dirty") else ""
    return table(
        ("", ""),
        [
            ("date (UTC)", machine["date"]),
            ("git commit", f"`{machine['commit']}`{dirty}"),
            ("CPU", f"{machine['cpu']}, {machine['cores']} cores"),
            ("memory", f"{machine['memory_gb']} GB"),
            ("load average at start (1/5/15 min)", " / ".join(str(v) for v in machine["load_average_at_start"])),
            ("Python", machine["python"]),
            ("Redis", machine.get("redis_server") or "embedded fakeredis"),
        ],
    )


def engine_section(run: dict[str, Any]) -> str:
    actions = run["actions"]
    latency = table(
        ("action", "invocations", "p50 ms", "p99 ms", "mean ms", "Redis calls (min/mean/max)", "EVALSHA p50 ms"),
        [
            (
                name,
                stats["count"],
                stats["p50_ms"],
                stats["p99_ms"],
                stats["mean_ms"],
                f"{stats['redis_calls_min']} / {stats['redis_calls_mean']:.3f} / {stats['redis_calls_max']}",
                stats["evalsha_p50_ms"],
            )
            for name, stats in actions.items()
        ],
    )
    figures = table(
        ("figure", "value"),
        [
            (
                "run",
                f"{run['participants']:,} participants x {run['questions']} questions ({run['completion_reason']})",
            ),
            ("answers (answer + timeout)", run["answers"]),
            ("answer_result replies / errors", f"{run['answer_results']:,} / {run['errors']}"),
            ("answers per second (one handler at a time)", run["answers_per_second"]),
            (
                "game phase wall time / simulated server time",
                f"{run['game_seconds']:.1f} s / {run['simulated_game_s']} s",
            ),
            ("answer handler p50 / bare EVALSHA p50 (same run)", f"{run['answer_handler_over_evalsha']} x"),
            ("Redis PING round trip p50", f"{run['redis_ping_p50_ms']} ms"),
            ("EVALSHA counted by Redis / by the client (game phase)", _evalsha_check(run)),
            ("@connections pushes: lobby / start / game", _phases(run["pushes_by_phase"])),
            ("@connections pushes per answer (game)", run["pushes_per_answer"]),
            ("@connections pushes per answer (lobby and start included)", run.get("pushes_total_per_answer")),
            (
                "fan-out records / invocations (batch size)",
                f"{run.get('fanout_deliveries', 0):,} / {run.get('fanout_invocations', 0):,}"
                f" ({run.get('fanout_batch_size', '-')})",
            ),
            ("flush requests (by producer)", _requests(run.get("flush_requests_by_producer", {}))),
            ("pushes queue SQS requests", _requests(run.get("pushes_queue_requests", {}))),
            ("bytes pushed per answer (game)", run["bytes_per_answer"]),
            ("pushes by type", ", ".join(f"{k} {v:,}" for k, v in run["pushes_by_type"].items())),
            ("naive pushes (every answer to everyone)", run["naive_game_pushes"]),
            (
                "naive / actual: game pushes, all pushes",
                f"{run['naive_over_actual_game']} x, {run['naive_over_actual_total']} x",
            ),
            ("items reported / DynamoDB requests", f"{run['report_items']:,} / {_requests(run['dynamodb_requests'])}"),
            (
                "BatchWriteItem = ceil(items / 25) + retries",
                f"{run['dynamodb_expected_batches']} + {run['dynamodb_retries']}",
            ),
            (
                "reporter wall time (moto)",
                f"{run['report_seconds']} s" + (f" - {run['report_error']}" if run["report_error"] else ""),
            ),
            ("SQS requests", _requests(run["sqs_requests"])),
        ],
    )
    return figures + "\n\n" + latency


def _phases(phases: dict[str, int]) -> str:
    return " / ".join(f"{phases.get(name, 0):,}" for name in ("lobby", "start", "game"))


def _requests(requests: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in requests.items()) or "none"


def _evalsha_check(run: dict[str, Any]) -> str:
    return f"{run['server_evalsha_calls_in_game']:,} / {run['client_evalsha_calls_in_game']:,}"


def scale_section(scale: list[dict[str, Any]]) -> str:
    return table(
        (
            "P",
            "Q",
            "answers/s",
            "answer p50 ms",
            "answer p99 ms",
            "question p50 ms",
            "EVALSHA p50 ms",
            "pushes/answer",
            "bytes/answer",
            "naive/actual (game)",
            "join p50 ms",
            "join p99 ms",
        ),
        [
            (
                run["participants"],
                run["questions"],
                run["answers_per_second"],
                run["actions"]["answer"]["p50_ms"],
                run["actions"]["answer"]["p99_ms"],
                run["actions"]["question"]["p50_ms"],
                run["actions"]["answer"]["evalsha_p50_ms"],
                run["pushes_per_answer"],
                run["bytes_per_answer"],
                run["naive_over_actual_game"],
                run["actions"][JOIN]["p50_ms"],
                run["actions"][JOIN]["p99_ms"],
            )
            for run in scale
        ],
    )


def plot_scale(scale: list[dict[str, Any]], path: Path = PLOT) -> None:
    import matplotlib  # noqa: PLC0415 (only the plot needs it)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    sizes = [run["participants"] for run in scale]
    figure, (latency_axis, pushes_axis) = pyplot.subplots(1, 2, figsize=(10, 4))
    for pct in ("p50", "p99"):
        latency_axis.plot(
            sizes, [run["actions"]["answer"][f"{pct}_ms"] for run in scale], marker="o", label=f"answer {pct}"
        )
    latency_axis.plot(
        sizes, [run["actions"]["answer"]["evalsha_p50_ms"] for run in scale], marker="s", label="EVALSHA p50 (floor)"
    )
    latency_axis.set(xscale="log", yscale="log", xlabel="participants (P)", ylabel="ms", title="answer handler latency")
    latency_axis.legend()
    pushes_axis.plot(sizes, [run["pushes_per_answer"] for run in scale], marker="o", label="coalesced (this design)")
    pushes_axis.plot(
        sizes, [run["participants"] + 1 for run in scale], marker="x", label="naive: broadcast every answer"
    )
    pushes_axis.set(
        xscale="log",
        yscale="log",
        xlabel="participants (P)",
        ylabel="@connections pushes per answer",
        title="pushes per answer",
    )
    pushes_axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def plot_fanout(runs: list[dict[str, Any]], path: Path = FANOUT_PLOT) -> None:
    """Pushes per answer and peak @connections calls a second against P (bench.fanout's model)."""
    import matplotlib  # noqa: PLC0415 (only the plot needs it)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    sizes = [run["participants"] for run in runs]
    figure, (pushes_axis, rps_axis) = pyplot.subplots(1, 2, figsize=(10, 4))
    pushes_axis.plot(sizes, [run["pushes_per_answer"] for run in runs], marker="o", label="modelled run")
    pushes_axis.axhline(2, color="grey", linestyle="--", label="budget: 2 per answer")
    pushes_axis.set(xscale="log", xlabel="participants (P)", ylabel="pushes per answer (lobby included)")
    pushes_axis.set(title="@connections pushes per answer", ylim=(0, None))
    pushes_axis.legend()
    rps_axis.plot(sizes, [run["peak_connections_rps"] for run in runs], marker="o", label="peak @connections / s")
    rps_axis.plot(sizes, [run["peak_account_rps"] for run in runs], marker="s", label="peak API calls / s (all)")
    rps_axis.axhline(5000, color="orange", linestyle="--", label="50 % of the account throttle")
    rps_axis.axhline(10000, color="red", linestyle="--", label="account throttle")
    rps_axis.set(
        xscale="log", xlabel="participants (P)", ylabel="calls a second", title="peak call rate", ylim=(0, None)
    )
    rps_axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def fanout_section(fanout: dict[str, Any]) -> str:
    runs = fanout["runs"]
    rows = table(
        (
            "P x Q",
            "pushes",
            "pushes/answer",
            "lobby pushes",
            "peak @connections/s",
            "peak API calls/s",
            "429s (@connections)",
            "undelivered",
            "slowest invocation ms (timeout)",
            "s to admit all",
            "$ per run",
        ),
        [
            (
                f"{run['participants']:,} x {run['questions']}",
                run["pushes_total"],
                run["pushes_per_answer"],
                run["lobby_pushes"],
                run["peak_connections_rps"],
                run["peak_account_rps"],
                run["throttled_calls"],
                run["undelivered_pushes"],
                f"{run['slowest_invocation_ms']:,.0f} ({run['invocation_timeout_ms']:,})",
                run["seconds_to_admit_all"],
                f"${run['cost_usd']:.4f}",
            )
            for run in runs
        ],
    )
    model = fanout["model"]
    latency = model["connections_latency"]
    parameters = (
        f"Model: @connections latency lognormal (median {latency['median_ms']} ms, p99 {latency['p99_ms']} ms); "
        f"account throttle {model['account_throttle']['rate_per_s']:,}/s, "
        f"burst {model['account_throttle']['burst']:,}, "
        f"shared by every API call; connect quota {model['connect_quota']['rate_per_s']}/s; think time uniform "
        f"{model['think_s']['low']}..{model['think_s']['high']} s; fan-out batch {model['fanout']['batch_size']}, "
        f"at most {model['fanout']['max_concurrency']} at once, {model['fanout']['post_threads']} threads, "
        f"{model['fanout']['pushes_per_second_per_invocation']:,} pushes/s each."
    )
    return parameters + "\n\n" + rows


LOAD_FIGURES: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    (
        "answer_result expected / received",
        lambda run: f"{run['expected_answer_results']:,} / {run['answer_results']:,}",
    ),
    ("lost / duplicated", lambda run: f"{run['lost']} / {run['duplicated']}"),
    ("requests without a reply within 60 s (by action)", lambda run: _requests(run["requests_timed_out"])),
    ("answer_results that came after their request timed out", lambda run: run["late_answer_results"]),
    ("completion", lambda run: run["completion"]),
    ("errors", lambda run: run["error_count"] if not run["errors"] else f"{run['error_count']}: {run['errors']}"),
    (
        "answer -> answer_result p50 / p99",
        lambda run: f"{run['answer_to_result_p50_ms']:,.1f} ms / {run['answer_to_result_p99_ms']:,.1f} ms",
    ),
    ("joins + connects (+ `sync`) a second", lambda run: run["joins_and_connects_per_s"]),
    (
        "lobby messages per participant, median / max",
        lambda run: f"{run['lobby_messages_per_participant_median']} / {run['lobby_messages_per_participant_max']}",
    ),
    (
        "sockets with exactly one `completed`",
        lambda run: f"{run['sockets_with_one_completed']:,} of {run['sockets']:,}",
    ),
    ("phases", lambda run: ", ".join(f"{name} {seconds} s" for name, seconds in run["phases_s"].items())),
    ("results durable (HTTP 200) after completion", lambda run: f"{run['results_persisted_after_s']} s"),
)


def load_section(runs: Sequence[dict[str, Any]]) -> str:
    """One column per run (participants x questions, WebSocket clients over loopback)."""
    header = ("figure", *(f"{run['participants']:,} x {run['questions']}" for run in runs))
    return table(header, [(name, *(figure(run) for run in runs)) for name, figure in LOAD_FIGURES])


def cost_section(cost: dict[str, Any]) -> str:
    ours, naive = cost["coalesced"], cost["naive"]
    lines = table(
        ("item", "coalesced (this design)", "naive (broadcast every answer)"),
        [(name, f"${ours['dollars'][name]:.4f}", f"${naive['dollars'][name]:.4f}") for name in ours["dollars"]]
        + [("**total per run**", f"**${ours['total_dollars']:.4f}**", f"**${naive['total_dollars']:.4f}**")]
        + [("naive / coalesced", "", f"**{cost['naive_over_coalesced']} x**")],
    )
    quantities = table(
        ("quantity", "coalesced", "naive"),
        [(name, ours["quantities"][name], naive["quantities"][name]) for name in ours["quantities"]],
    )
    prices = table(
        ("price", "USD", "what"),
        [(name, f"{price['usd']:.10g}", price["what"]) for name, price in cost["prices"].items()],
    )
    assumptions = table(
        ("assumption", "value", "what"),
        [(name, item["value"], item["what"]) for name, item in cost["assumptions"].items()],
    )
    return (
        f"Run: {cost['run']}. Prices dated {cost['prices_date']} ({cost['prices_note']}).\n\n"
        f"{lines}\n\n{quantities}\n\n{prices}\n\n{assumptions}"
    )


def coldstart_section(coldstart: dict[str, Any]) -> str:
    imports = table(
        (
            "function",
            "memory MB",
            "import median ms (as deployed)",
            "min ms",
            "max ms",
            "`import boto3` median ms",
            "ratio to boto3",
            "processes",
            "init median ms (local runtime)",
        ),
        [
            (
                name,
                item.get("memory_mb"),
                item.get("median_ms"),
                item.get("min_ms"),
                item.get("max_ms"),
                item.get("boto3_median_ms"),
                item.get("ratio_to_boto3"),
                item.get("samples"),
                item.get("init_median_ms"),
            )
            if "error" not in item
            else (name, None, item["error"], None, None, None, None, None, item.get("init_median_ms"))
            for name, item in coldstart["imports"].items()
        ],
    )
    sizes = table(
        ("package", "path", "files", "MB on disk", "MB zipped"),
        [
            (
                name,
                item.get("path"),
                item.get("files"),
                round(item["bytes"] / 1e6, 2),
                round(item["zipped_bytes"] / 1e6, 2),
            )
            if "error" not in item
            else (name, item["error"], None, None, None)
            for name, item in coldstart["sizes"].items()
        ],
    )
    return imports + "\n\n" + sizes


def _memory_rows(memory: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(row label, function summary): the local runtime's functions, then the engine bench's handler."""
    rows = [(f"{name} (local runtime)", summary) for name, summary in memory["functions"].items()]
    return [*rows, ("speedrun (engine bench, handler only)", memory["engine_speedrun"])]


def _curve_cells(item: dict[str, Any], render: Callable[[dict[str, Any]], str]) -> list[str]:
    """One cell per memory size of the function's curve, the chosen size's in bold."""
    return [
        f"**{render(point)}**" if point["memory_mb"] == item["chosen_memory_mb"] else render(point)
        for point in item["curve"]
    ]


def memory_section(memory: dict[str, Any]) -> str:
    rows = _memory_rows(memory)
    prices = memory["prices"]
    load = memory["load"]
    heading = (
        f"Run: {memory['run']['participants']:,} x {memory['run']['questions']} on the local stack "
        f"({load['answer_results']:,} of {load['expected_answer_results']:,} answer_results, {load['lost']} lost, "
        f"{load['error_count']} errors), then through the handler. Prices dated {prices['date']}: "
        f"${prices['lambda_request']['usd'] * 1e6:.2f} per million requests, "
        f"${prices['lambda_gb_second']['usd']:.10f} per GB-second ({prices['lambda_gb_second']['what']}). "
        f"Rule: {memory['model']['rule']}."
    )
    measured = table(
        (
            "function",
            "invocations",
            "wall p50 / p95 ms",
            "CPU p50 / p95 ms",
            "CPU / wall (sums)",
            "max memory used MB",
            "memory MB now (manifest)",
            "chosen MB",
            "$ per 1M now / chosen",
        ),
        [
            (
                label,
                item["invocations"],
                f"{item['wall_ms']['p50']:,.2f} / {item['wall_ms']['p95']:,.2f}",
                f"{item['cpu_ms']['p50']:,.2f} / {item['cpu_ms']['p95']:,.2f}",
                item["cpu_over_wall"],
                item["max_memory_used_mb"] or "-",
                item["current_memory_mb"],
                f"**{item['chosen_memory_mb']:,}**" if item["chosen_memory_mb"] else "-",
                f"${item['current']['usd_per_million']:.4f} / "
                + (f"${item['chosen']['usd_per_million']:.4f}" if item["chosen"] else "-"),
            )
            for label, item in rows
        ],
    )

    sizes = [point["memory_mb"] for point in rows[0][1]["curve"]]
    curve = table(
        ("function", "modelled", *(f"{size:,} MB" for size in sizes)),
        [
            row
            for label, item in rows
            for row in (
                (label, "p50 ms", *_curve_cells(item, lambda point: f"{point['p50_ms']:,.2f}")),
                ("", "p95 ms", *_curve_cells(item, lambda point: f"{point['p95_ms']:,.2f}")),
                ("", "$ per 1M", *_curve_cells(item, lambda point: f"${point['usd_per_million']:.4f}")),
            )
        ],
    )
    return f"{heading}\n\n{measured}\n\n{curve}"


def _measured(machine: dict[str, Any]) -> str:
    load = " / ".join(str(value) for value in machine["load_average_at_start"])
    return f"_Measured {machine['date']} at commit `{machine['commit']}`, load average {load} at the start._\n\n"


def replace_between_markers(text: str, name: str, content: str) -> str:
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"docs/performance.md has no <!-- bench:{name} --> markers")
    return pattern.sub(lambda match: f"{match.group(1)}{content}\n{match.group(2)}", text)


def write_docs(results: dict[str, Any], doc: Path = DOC) -> None:
    sections = {
        "machine": lambda: machine_section(results["machine"]),
        "engine": lambda: engine_section(results["engine"]["run"]),
        "scale": lambda: scale_section(results["scale"]["runs"]),
        "load": lambda: load_section(results["load"]["runs"]),
        "cost": lambda: cost_section(results["cost"]["model"]),
        "coldstart": lambda: coldstart_section(results["coldstart"]["measured"]),
        "fanout": lambda: fanout_section(results["fanout"]),
        "memory": lambda: memory_section(results["memory"]),
    }
    text = doc.read_text()
    for name, render in sections.items():
        if name == "fanout" and f"<!-- bench:{name} -->" not in text:
            continue  # the doc has no place for it yet (<!-- bench:fanout --> ... <!-- /bench:fanout -->)
        if name == "machine":
            text = replace_between_markers(text, name, render())
        elif name in results:
            text = replace_between_markers(text, name, _measured(results[name]["machine"]) + render())
    doc.write_text(text)
