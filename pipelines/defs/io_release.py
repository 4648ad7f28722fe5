"""The in-process run's IO manager: values handed from step to step in memory, each one let go as soon as
the last step of the run that reads it has loaded it.

Why: Dagster's InMemoryIOManager, and the output capture of `execute_in_process` beside it, hold every
step's output until the run ends. A rebuild's outputs are large (the fan-out's batch results repeat the
whole validation; the normalized rows are read once, by the consolidation), so a province's peak held
them all at once. Here a value's readers are counted from the run's execution plan (a dry run reads
fewer); after the last one loads it, it leaves this manager and the run's output capture, and lives only
as long as that step holds it. Values named in `keep` (assets the caller reads from the result after the
run) stay to the end. When the plan cannot be read (another Dagster), nothing is let go: as before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import dagster as dg


class ReleasingIOManager(dg.IOManager):
    """In memory, each value dropped after its last reader in the run (see the module's docstring).
    keep: asset names whose values stay for the caller; None keeps every asset's value (only the ops'
    outputs inside a graph-backed asset are let go)."""

    def __init__(self, keep: Collection[str] | None = None) -> None:
        self.keep = None if keep is None else frozenset(keep)
        self.values: dict[tuple[object, ...], object] = {}
        self.readers_left: dict[tuple[object, ...], int] = {}
        self.released: list[str] = []  # step outputs let go, in order ("step.output[mapping]")

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        key = tuple(context.get_identifier())
        self.values[key] = obj
        if self._kept(context):
            return
        readers = plan_readers(context.step_context.execution_plan, context.step_key, context.name)
        if readers:  # None (unknown plan) or 0 (nobody reads it: the caller may): held to the end
            self.readers_left[key] = readers

    def load_input(self, context: dg.InputContext) -> object:
        key = tuple(context.get_identifier())
        value = self.values[key]
        left = self.readers_left.get(key)
        if left is not None and left <= 1:
            self._release(key, context)
        elif left is not None:
            self.readers_left[key] = left - 1
        return value

    def _kept(self, context: dg.OutputContext) -> bool:
        if not context.has_asset_key:
            return False
        return self.keep is None or context.asset_key.to_user_string() in self.keep

    def _release(self, key: tuple[object, ...], context: dg.InputContext) -> None:
        del self.values[key]
        del self.readers_left[key]
        upstream = context.upstream_output
        if upstream is None:
            return
        handle = _handle(upstream)
        capture = context.step_context.output_capture
        if isinstance(capture, dict) and handle is not None:
            capture.pop(handle, None)  # execute_in_process's copy of every output
        self.released.append(f"{upstream.step_key}.{upstream.name}[{upstream.mapping_key or ''}]")


def _handle(upstream: dg.OutputContext) -> Any:
    from dagster._core.execution.plan.outputs import StepOutputHandle

    if upstream.step_key is None or upstream.name is None:
        return None
    return StepOutputHandle(upstream.step_key, upstream.name, upstream.mapping_key)


def _base(step_key: str) -> str:
    """A mapped step's key without its mapping ("g.op[shard_0]" and the plan's "g.op[?]" → "g.op")."""
    return step_key.split("[", 1)[0]


def plan_readers(plan: Any, step_key: str | None, output_name: str | None) -> int | None:
    """How many step inputs of the run read this step output (a mapped step's output: each mapping has
    its one reader), or None when the plan's inputs are of a kind not known here."""
    if step_key is None or output_name is None:
        return None
    try:
        inputs = [i for step in plan.step_dict.values() for i in step.step_inputs]
        sources = [h for i in inputs for h in _dependencies(i)]
    except (AttributeError, TypeError):
        return None
    base = _base(step_key)
    return sum(1 for h in sources if _base(h.step_key) == base and h.output_name == output_name)


def _dependencies(step_input: Any) -> Iterable[Any]:
    """The step outputs an input reads: resolved (StepInput) or with a mapping placeholder (unresolved
    mapped or collecting inputs of a dynamic fan-out)."""
    if hasattr(step_input, "get_step_output_handle_dependencies"):
        return list(step_input.get_step_output_handle_dependencies())
    return list(step_input.get_step_output_handle_deps_with_placeholders())
