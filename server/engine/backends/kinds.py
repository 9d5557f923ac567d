"""The kinds of backend, as data: one row per kind with everything particular to it.

`BackendKind` (the protocol's enum: its values go onto the wire) names a kind; its row here says
which instance class serves it, where operators configure it, what a piece of work needs from
an instance (its "need": a model name, the files a graph loads) and how an instance is chosen
for one, and what operators and students call it. The registry, the stages and the settings
read these rows and nothing else about a kind, so a new kind (a vision model, a TTS server) is
a member of `BackendKind`, a row in `KINDS`, its instance and config classes and its settings
fields.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from server.engine.backends.config import (
    BackendConfig,
    ComfyUIBackendConfig,
    LifecycleSettings,
    LLMBackendConfig,
)
from server.engine.backends.instances import (
    ComfyUIInstance,
    HealthListener,
    Instance,
    LLMInstance,
)
from server.engine.backends.routing import ImageNeeds
from server.engine.backends.warmup import warm_up
from server.engine.llm import Dialect
from server.protocol import BackendKind

InstanceT = TypeVar("InstanceT", bound=Instance)
NeedT = TypeVar("NeedT")


def unranked(instance: Instance, need: object) -> tuple[int, ...]:
    """No preference among the instances that serve a need: load alone decides."""
    return ()


@dataclass(frozen=True)
class KindFacts(Generic[InstanceT, NeedT]):
    """One row of the kind table, typed by its instance class and its need."""

    kind: BackendKind
    #: The class of its instances and the class of one instance's settings.
    instance: type[InstanceT]
    config: type[BackendConfig]
    #: The settings field listing its instances (TOML `[[<setting>]]`), and the one-URL
    #: shortcut field with the name it gives the single instance it configures.
    setting: str
    url_setting: str
    url_instance: str
    #: Does an instance serve the need at all (`rank`: which of those it prefers)?
    serves: Callable[[InstanceT, NeedT], bool]
    #: For operators: the server ("no image server is configured"), what a need asks for
    #: ("no LLM server has the model 'x'"), what would serve it ("no image server is
    #: available"), and what does the work ("the language model did not finish in time").
    server: str
    lacking: Callable[[NeedT], str]
    wanted: Callable[[NeedT], str]
    worker: str
    #: What students read, by language: the page's backend banner says the same.
    students: Mapping[str, str]
    #: Among the instances that serve a need, the lower rank wins before load decides.
    rank: Callable[[InstanceT, NeedT], tuple[int, ...]] = unranked
    #: Other names its clients give as an error's `backend` (an LLM client names its dialect).
    aliases: frozenset[str] = frozenset()
    #: Loads what the pipeline will ask for, ahead of the work (None: nothing to load).
    warm: Callable[[InstanceT, Sequence[str], float], Coroutine[Any, Any, object]] | None = None

    def build(
        self, config: BackendConfig, lifecycle: LifecycleSettings, on_change: HealthListener
    ) -> InstanceT:
        """The instance for one of its configs; another kind's config is a programming error."""
        if not isinstance(config, self.config):
            raise TypeError(f"a {self.kind} instance takes a {self.config.__name__}: {config!r}")
        return self.instance(config, lifecycle, on_change)

    def names(self, backend: str) -> bool:
        """Is `backend` (an error's `backend`) an instance of this kind?"""
        return backend == self.kind or backend in self.aliases


LLM: KindFacts[LLMInstance, str] = KindFacts(
    kind=BackendKind.LLM,
    instance=LLMInstance,
    config=LLMBackendConfig,
    setting="llm",
    url_setting="llm_url",
    url_instance="ollama",
    serves=LLMInstance.serves,
    server="LLM server",
    lacking=lambda model: f"the model {model!r}",
    wanted=lambda model: f"language model server with {model!r}",
    worker="language model",
    students={"en": "the text machine", "de": "die Textmaschine"},
    aliases=frozenset(Dialect),
    warm=warm_up,
)

COMFYUI: KindFacts[ComfyUIInstance, ImageNeeds] = KindFacts(
    kind=BackendKind.COMFYUI,
    instance=ComfyUIInstance,
    config=ComfyUIBackendConfig,
    setting="comfyui",
    url_setting="comfyui_url",
    url_instance="comfyui",
    serves=ComfyUIInstance.has,
    # The LoRAs are a preference: the instance missing the fewest wins before load decides.
    rank=lambda instance, needs: (instance.missing(needs),),
    server="image server",
    lacking=lambda needs: "the model file " + ", ".join(sorted(needs.models)),
    wanted=lambda needs: "image server",
    worker="image server",
    students={"en": "the picture machine", "de": "die Bildmaschine"},
)

#: Every kind, in the order operators see them (`/api/status`, `/readyz`).
KINDS: Mapping[BackendKind, KindFacts[Any, Any]] = {row.kind: row for row in (LLM, COMFYUI)}


def kind_named(backend: str) -> KindFacts[Any, Any] | None:
    """The kind an error's `backend` names; None for a name of no kind."""
    return next((row for row in KINDS.values() if row.names(backend)), None)
