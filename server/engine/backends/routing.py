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
    """Unknown capabilities (not yet asked, or a list we cannot read) count as having
    every model file: ComfyUI itself then says whether it has them."""
    if capabilities is None or capabilities.checkpoints is None or capabilities.unets is None:
        return True
    return needs.models <= {*capabilities.checkpoints, *capabilities.unets}


def available_loras(capabilities: Capabilities | None) -> frozenset[str] | None:
    """The LoRA files an instance lists: empty when it has none, None when it is unknown."""
    if capabilities is None or capabilities.loras is None:
        return None
    return frozenset(capabilities.loras)


def missing_loras(capabilities: Capabilities | None, needs: ImageNeeds) -> int:
    """How many of the LoRAs the work asks for the instance lacks. Unknown LoRAs count as
    missing: a render never names a LoRA the instance has not listed."""
    available = available_loras(capabilities)
    return len(needs.loras if available is None else needs.loras - available)


def describe_states(states: Sequence[tuple[str, str, str | None]]) -> str:
    """`gpu1 down (cannot connect ...); gpu2 unhealthy` for an error message."""
    parts = [
        f"{name} {state}" + (f" ({message})" if message else "") for name, state, message in states
    ]
    return "; ".join(parts)
