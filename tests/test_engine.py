"""The engine: order checks, assignment checks and batching across threads, with stages and
layers registered only for the test (and removed after)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from discourse.core.config import load_config
from discourse.core.engine import Doc, Pipeline, check_order, groups
from discourse.core.errors import ConfigError, PipelineError
from discourse.core.layers import LAYERS, LayerSpec, register_layer
from discourse.core.registry import Registry
from discourse.core.stage import STAGES, StageSpec
from discourse.core.thread import Comment, Thread


@dataclass(frozen=True)
class Count:
    n: int

    def to_json(self) -> int:
        return self.n


def _thread(k: int, n: int) -> Thread:
    comments = tuple(Comment(f"c{i}", f"comment {i} of thread {k}") for i in range(n))
    return Thread(id=f"t{k}", title=f"T{k}", comments=comments, article="A")


class Recorder:
    """A stage that records each call's threads and writes a thread-level count."""

    calls: list[list[str]] = []

    def __init__(self, config: object, resources: object) -> None:
        pass

    def __call__(self, docs: Sequence[Doc]) -> None:
        Recorder.calls.append([d.thread.id for d in docs])
        for d in docs:
            d.annotations.put("test_count", Count(len(d.thread.comments)))


@pytest.fixture()
def recorder() -> Iterator[type[Recorder]]:
    Recorder.calls = []
    spec = StageSpec("test_count.v1", Recorder, requires=("text",), assigns=("test_count",))
    with LAYERS.temporarily("test_count", LayerSpec("test_count", "thread", Count)):
        with STAGES.temporarily("test_count.v1", spec):
            yield Recorder
    assert "test_count.v1" not in STAGES and "test_count" not in LAYERS


def test_every_stage_runs_once_per_group_over_all_its_threads(recorder: type[Recorder]) -> None:
    pipe = Pipeline(load_config({"pipeline": ["test_count.v1"]}))
    threads = [_thread(k, 4) for k in range(7)]  # 5 texts each
    docs = list(pipe.run_many(threads, max_texts=12))
    assert recorder.calls == [["t0", "t1", "t2"], ["t3", "t4", "t5"], ["t6"]]
    assert [d.thread.id for d in docs] == [t.id for t in threads]
    a = pipe.analysis(docs[0])
    assert a.to_json()["test_count"] == 4 and a.test_count == Count(4)
    assert a.timings["test_count.v1"] >= 0 and a.timings["total"] == pytest.approx(sum(docs[0].timings.values()))


def test_groups_keep_order_and_put_a_big_thread_alone() -> None:
    threads = [_thread(0, 2), _thread(1, 50), _thread(2, 2), _thread(3, 2)]
    assert [[t.id for t in g] for g in groups(threads, 10)] == [["t0", "t1"], ["t2", "t3"]]
    assert [[t.id for t in g] for g in groups(threads, 100)] == [["t0", "t1", "t2", "t3"]]
    assert list(groups([], 10)) == []


def test_attention_before_chains_is_refused() -> None:
    with pytest.raises(PipelineError, match="attention.v1 requires chains"):
        check_order(["encode.v1", "reply_graph.v1", "toxicity.v1", "stance.v1", "attention.v1", "chains.v1"])


def test_a_stage_must_assign_registered_layers_of_the_declared_type() -> None:
    class Wrong:
        def __init__(self, config: object, resources: object) -> None:
            pass

        def __call__(self, docs: Sequence[Doc]) -> None:
            for d in docs:
                d.annotations.put("test_count", 3)  # not a Count

    with LAYERS.temporarily("test_count", LayerSpec("test_count", "thread", Count)):
        with STAGES.temporarily("wrong.v1", StageSpec("wrong.v1", Wrong, assigns=("test_count",))):
            with pytest.raises(PipelineError, match="layer 'test_count' must be Count, got int"):
                Pipeline(load_config({"pipeline": ["wrong.v1"]})).run(_thread(0, 2))
    with STAGES.temporarily("ghost.v1", StageSpec("ghost.v1", Wrong, assigns=("ghost",))):
        with pytest.raises(PipelineError, match="unregistered layer 'ghost'"):
            check_order(["ghost.v1"])


def test_a_thread_level_layer_must_be_assigned_for_every_thread() -> None:
    class Lazy:
        def __init__(self, config: object, resources: object) -> None:
            pass

        def __call__(self, docs: Sequence[Doc]) -> None:
            docs[0].annotations.put("test_count", Count(0))  # forgets the others

    with LAYERS.temporarily("test_count", LayerSpec("test_count", "thread", Count)):
        with STAGES.temporarily("lazy.v1", StageSpec("lazy.v1", Lazy, assigns=("test_count",))):
            pipe = Pipeline(load_config({"pipeline": ["lazy.v1"]}))
            with pytest.raises(PipelineError, match="lazy.v1 did not assign test_count for thread t1"):
                list(pipe.run_many([_thread(0, 1), _thread(1, 1)]))


def test_registries_refuse_shadowing_and_suggest_names() -> None:
    reg: Registry[object] = Registry("stage")
    reg._loaded = True  # no entry points for this private registry
    first, second = object(), object()
    reg.register("a.v1", first)
    reg.register("a.v1", first)  # the same object again: a no-op
    with pytest.raises(PipelineError, match="registered twice"):
        reg.register("a.v1", second)
    with pytest.raises(ConfigError, match=r"unknown stage 'a.v2' \(did you mean 'a.v1'\?\)"):
        reg.get("a.v2")


def test_layer_names_and_types_are_checked_when_registered() -> None:
    with pytest.raises(PipelineError, match="reserved"):
        register_layer("comments", "thread", Count)
    with pytest.raises(PipelineError, match="needs a to_json"):
        register_layer("test_plain", "thread", int)
    with pytest.raises(PipelineError, match="cannot be many"):
        register_layer("test_many", "comment", Count, many=True)


def test_progress_hears_every_stage_start_and_end_and_the_encoder_between(tiny_config: dict) -> None:
    from discourse.api import load_threads
    from discourse.core.engine import Resources
    from discourse.stages.encode.encoder import SentenceEncoder
    from discourse.testing import DEBATE

    heard: list[tuple[str, float, int]] = []
    pipeline = Pipeline(tiny_config, Resources(progress=lambda *a: heard.append(a)))
    thread = load_threads(DEBATE.encode())[0]
    pipeline.run(thread)
    n = len(thread.comments)
    for name in pipeline.config.pipeline:
        mine = [(f, c) for s, f, c in heard if s == name]
        assert mine[0] == (0.0, n) and mine[-1] == (1.0, n)
    order = [s for s, _, _ in heard]
    assert order.index("encode.v1") < order.index(pipeline.config.pipeline[-1])

    shares: list[float] = []  # a long pass says how far it has got, slice by slice
    enc = SentenceEncoder(**{k: v for k, v in tiny_config["stages"]["encode.v1"].items() if k != "token_probe"})
    enc.encode([f"text {k}" for k in range(12)], slice_size=5, progress=shares.append)
    assert shares == [5 / 12, 10 / 12, 1.0]


def test_a_threads_working_state_is_let_go_once_its_analysis_is_handed_over(tiny_config: dict) -> None:
    """The encoder's outputs of a thread (0.15 GB of vectors at 100,000 comments) are not held while
    the caller writes the analysis of that thread."""
    import gc
    import weakref

    from discourse.api import load_threads
    from discourse.core.engine import Pipeline
    from discourse.testing import DEBATE

    pipeline = Pipeline(tiny_config)
    refs: list[weakref.ref] = []
    real = pipeline.analysis

    def analysis(doc):  # type: ignore[no-untyped-def]
        refs.append(weakref.ref(doc))
        return real(doc)

    pipeline.analysis = analysis  # type: ignore[method-assign]
    threads = load_threads(DEBATE.encode()) * 3
    for got in pipeline.analyze(threads, max_texts=10_000):  # one group of three threads
        gc.collect()
        assert got.thread.comments and refs[-1]() is None
    assert len(refs) == 3


def test_the_models_are_let_go_once_the_last_group_has_run_and_come_back_if_asked(tiny_config: dict) -> None:
    """``last=True``: the last group runs with each stage's models let go after it, and the caller
    writes its analyses with that memory free; the analyses are the same, and a later call builds
    the models again."""
    from discourse.api import load_threads
    from discourse.core.engine import Pipeline, groups
    from discourse.testing import DEBATE

    threads = list(load_threads(DEBATE.encode())) * 3
    sizes = [len(g) for g in groups(threads, 12)]
    assert len(sizes) > 1  # several groups
    kept = Pipeline(tiny_config)
    want = [_no_timings(a.to_json()) for a in kept.analyze(threads, max_texts=12)]
    assert kept.resources._cache  # without last=True the models stay for the next call
    freed = Pipeline(tiny_config)
    events: list[str] = []
    real = freed.resources.release
    freed.resources.release = lambda: (events.append("release"), real())[1]  # type: ignore[method-assign]
    got = []
    for a in freed.analyze(list(threads), max_texts=12, last=True):
        events.append("analysis")
        got.append(_no_timings(a.to_json()))
    stages = len(freed.specs)  # the last group: each stage's models go once it has run
    assert events == ["analysis"] * (len(threads) - sizes[-1]) + ["release"] * stages + ["analysis"] * sizes[-1]
    assert not freed.resources._cache and got == want
    again = next(freed.analyze(threads[:1]))
    assert freed.resources._cache and _no_timings(again.to_json()) == want[0]


def _no_timings(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "timings_s"}
