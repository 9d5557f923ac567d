"""Which instance gets a piece of work: pure choices over instances' states and loads.

Work goes to the least-loaded instance that is usable (healthy, breaker letting work through)
and has what the work needs. For ComfyUI "has" means the model files the graph loads; the
LoRAs are a preference (an instance lacking one renders without it, with a warning), so the
instance missing the fewest LoRAs wins before load decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from server.engine.comfyui.results import Capabilities

#: Graph node classes that load a model file, and the input naming the file.
MODEL_LOADERS: Mapping[str, str] = {
    "CheckpointLoaderSimple": "ckpt_name",
    "CheckpointLoader": "ckpt_name",
    "UNETLoader": "unet_name",
}


class Routable(Protocol):
    @property
    def pool(self) -> str: ...

    def usable(self) -> bool: ...


R = TypeVar("R", bound=Routable)


def least_loaded(
    instances: Iterable[R],
    load: Callable[[str], float],
    rank: Callable[[R], tuple[float, ...]] = lambda _: (),
) -> R | None:
    """The usable instance with the lowest (rank, load); ties keep the configured order."""
    usable = [i for i in instances if i.usable()]
    if not usable:
        return None
    return min(usable, key=lambda i: (*rank(i), load(i.pool)))


@dataclass(frozen=True, slots=True)
class ImageNeeds:
    """What a render needs from a ComfyUI instance."""

    models: frozenset[str] = frozenset()
    loras: frozenset[str] = frozenset()


def models_in_graph(graph: Mapping[str, Any]) -> frozenset[str]:
    """The checkpoint / diffusion model files an API-format graph loads."""
    found: set[str] = set()
    for node in graph.values():
        if not isinstance(node, Mapping):
            continue
        field = MODEL_LOADERS.get(str(node.get("class_type", "")))
        inputs = node.get("inputs")
        if field and isinstance(inputs, Mapping) and isinstance(inputs.get(field), str):
            found.add(inputs[field])
    return frozenset(found)


def has_models(capabilities: Capabilities | None, needs: ImageNeeds) -> bool:
    """Unknown capabilities (not yet asked) count as having everything."""
    if capabilities is None:
        return True
    files = {*capabilities.checkpoints, *capabilities.unets}
    return needs.models <= files


def missing_loras(capabilities: Capabilities | None, needs: ImageNeeds) -> int:
    if capabilities is None:
        return 0
    return len(needs.loras - set(capabilities.loras))


def describe_states(states: Sequence[tuple[str, str, str | None]]) -> str:
    """`gpu1 down (cannot connect ...); gpu2 unhealthy` for an error message."""
    parts = [
        f"{name} {state}" + (f" ({message})" if message else "") for name, state, message in states
    ]
    return "; ".join(parts)
