"""`make bench` (`python -m bench [--quick] [--only engine,scale,load,coldstart,fanout,memory]`).

Writes `bench/results/<name>.json` and regenerates the tables of `docs/performance.md` (and the
scale-curve plot). `--quick` runs small sizes into `bench/results/quick/` and leaves the docs alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before boto3 loads: fake credentials and a fixed region (nothing here may reach an AWS account),
# quiet Powertools (no tracing, warnings only) as the local stack runs the handlers.
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[_name] = "bench"
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "speedrun-bench")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "SpeedRunBench")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")  # infra.layers loads the CDK

from bench import coldstart, cost, engine_run, fanout, load, machine, memory, report  # noqa: E402
from tests.support.redis_server import private_redis  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("engine", "scale", "load", "coldstart", "fanout", "memory")


@dataclass(frozen=True)
class Sizes:
    engine: tuple[int, int]
    """(participants, questions)"""
    scale: tuple[tuple[int, int], ...]
    """More points of the curve; the engine run is one of them."""
    load: tuple[tuple[int, int], ...]
    """(participants, questions) of the load runs against the local stack, each on a fresh stack."""
    import_repeats: int
    fanout: tuple[tuple[int, int], ...] = ()
    """(participants, questions) of the fan-out model's runs (bench.fanout)."""
    memory: tuple[int, int] = (200, 5)
    """(participants, questions) of the memory-sizing run (bench.memory): on the local stack, then the engine."""


FULL = Sizes(
    engine=(1000, 20),
    # Fewer questions for the larger runs keep the curve within a few minutes (pushes per answer and
    # latency per action do not depend on Q; the lobby grows as P^2, the boards as P).
    scale=((100, 20), (500, 5), (2000, 3), (5000, 1)),
    load=((200, 5), (1000, 5)),
    import_repeats=5,
    fanout=((1000, 20), (5000, 20), (10000, 20)),
)
QUICK = Sizes(
    engine=(200, 5),
    scale=((100, 5), (500, 2)),
    load=((100, 3),),
    import_repeats=3,
    fanout=((200, 5), (500, 5)),
    memory=(100, 3),
)


def progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def write(folder: Path, name: str, payload: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    progress(f"wrote {(folder / f'{name}.json').relative_to(RESULTS.parent.parent)}")


@dataclass(frozen=True)
class Bench:
    """One `python -m bench` invocation: its sizes, where its results go, and one method per section."""

    sizes: Sizes
    folder: Path
    about: dict[str, Any]
    """The machine (bench.machine.describe), written into every section's results."""
    quick: bool

    def run_engine_and_scale(self, *, scale: bool) -> None:
        """The engine run (and its cost model); with `scale`, the curve's other points around it."""
        with private_redis() as redis_url:
            participants, questions = self.sizes.engine
            progress(f"engine: {participants} x {questions} through lambdas.speedrun.handler")
            engine_summary = engine_run.play_engine_run(redis_url, participants, questions, progress=progress).summary()
            write(self.folder, "engine", {"machine": self.about, "run": engine_summary})
            write(self.folder, "cost", {"machine": self.about, "model": cost.cost_model(engine_summary)})
            if scale:
                runs = []
                for p, q in self.sizes.scale:
                    progress(f"scale: {p} x {q}")
                    played = engine_run.play_engine_run(redis_url, p, q, report=False, progress=progress)
                    runs.append(played.summary())
                runs = sorted([*runs, engine_summary], key=lambda run: run["participants"])
                write(self.folder, "scale", {"machine": self.about, "runs": runs})
                report.plot_scale(runs, self.folder / "scale-curve.png" if self.quick else report.PLOT)

    def run_load(self) -> None:
        load_runs = []
        for participants, questions in self.sizes.load:
            progress(f"load: {participants} WebSocket clients x {questions} questions against the local stack")
            load_runs.append(load.measure(participants, questions, progress))
        write(self.folder, "load", {"machine": self.about, "runs": load_runs})

    def run_fanout(self) -> None:
        with private_redis() as redis_url:
            participants = [p for p, _q in self.sizes.fanout]
            progress(f"fanout: the model against API Gateway's quotas at {participants} participants")
            started_fanout = time.perf_counter()
            measured = fanout.measure(redis_url, self.sizes.fanout, progress)
            measured["wall_s"] = round(time.perf_counter() - started_fanout, 1)
            write(self.folder, "fanout", {"machine": self.about, **measured})
            report.plot_fanout(measured["runs"], self.folder / "fanout-model.png" if self.quick else report.FANOUT_PLOT)

    def run_memory(self) -> None:
        participants, questions = self.sizes.memory
        with private_redis() as redis_url:
            started_memory = time.perf_counter()
            measured = memory.measure(redis_url, participants, questions, progress)
            measured["wall_s"] = round(time.perf_counter() - started_memory, 1)
        write(self.folder, "memory", {"machine": self.about, **measured})

    def run_coldstart(self) -> None:
        progress("cold start: import times and package sizes")
        measured = coldstart.measure(self.sizes.import_repeats, progress)
        write(self.folder, "coldstart", {"machine": self.about, "measured": measured})


def regenerate_docs(about: dict[str, Any]) -> None:
    """docs/performance.md's tables from every section's full-size results on disk."""
    results: dict[str, Any] = {}
    for name in (*SECTIONS, "cost"):
        path = RESULTS / f"{name}.json"
        if path.exists():
            results[name] = json.loads(path.read_text())
    # the machine as the headline (engine) run saw it; every section says when it was measured
    results["machine"] = results.get("engine", {}).get("machine", about)
    report.write_docs(results)
    progress("docs/performance.md tables regenerated")


def parse_arguments(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The options, and the sections to run (none with --docs)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, results in bench/results/quick/")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--docs", action="store_true", help="only regenerate docs/performance.md from the results")
    args = parser.parse_args(argv)
    only = [] if args.docs else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return args, only


def main(argv: list[str] | None = None) -> int:
    args, only = parse_arguments(argv)
    about = machine.describe()
    bench = Bench(
        sizes=QUICK if args.quick else FULL,
        folder=RESULTS / "quick" if args.quick else RESULTS,
        about=about,
        quick=args.quick,
    )
    progress(f"bench on {about['cpu']} ({about['cores']} cores), commit {about['commit']}, sections {only}")
    started = time.perf_counter()
    if "engine" in only or "scale" in only:
        bench.run_engine_and_scale(scale="scale" in only)
    if "load" in only:
        bench.run_load()
    if "fanout" in only:
        bench.run_fanout()
    if "coldstart" in only:
        bench.run_coldstart()
    if "memory" in only:
        bench.run_memory()
    if not args.quick:
        regenerate_docs(about)
    progress(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
