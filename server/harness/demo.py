"""Demo backends: the LLM and ComfyUI simulators, in-process, wired as if they were real.

Used by `./run.sh` when no backend is configured (the page and the log say "demo backends"),
and by the end-to-end tests. The responder understands the pipeline's own stage prompts, so a
demo run looks like a real one: safety verdicts, a re-imagined prompt, a translation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from server.engine.backends.config import BackendConfigs, ComfyUIBackendConfig, LLMBackendConfig
from server.engine.catalog import Catalog
from server.harness.comfyui_sim import ComfyUISimulator, SimConfig
from server.harness.comfyui_sim.catalog import ModelFiles
from server.harness.comfyui_sim.executor import ExecConfig
from server.harness.llm_sim import OllamaSimulator
from server.harness.llm_sim.common import Responder, SimModel, SimSettings
from server.harness.llm_sim.demo_text import reimagine, translate
from server.harness.vision_marker import vision_verdict
from server.protocol import BackendKind

#: Words the demo safety model calls unsafe (the word lists catch most things before it).
DEMO_UNSAFE = ("weapon", "blood", "gore", "kill", "unsafe", "forbidden")


@dataclass
class DemoResponder:
    """Answers like a helpful model would, deterministically, for each stage prompt."""

    catalog: Catalog
    unsafe_words: tuple[str, ...] = DEMO_UNSAFE
    _markers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, text in self.catalog.prompts.items():
            self._markers[name] = text.split("{", 1)[0][:80]

    def is_prompt(self, name: str, system: str) -> bool:
        marker = self._markers.get(name)
        return bool(marker) and system.startswith(marker or "\0")

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        seen = vision_verdict(messages)  # the vision check: the picture's marker decides
        if seen is not None:
            return seen
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        if self.is_prompt("safety_input", system) or self.is_prompt("safety_output", system):
            return self.verdict(user)
        if self.is_prompt("translate", system):
            return translate(user)
        return self.reimagine(system, user)

    def verdict(self, text: str) -> str:
        lowered = text.lower()
        for word in self.unsafe_words:
            if word in lowered:
                return "UNSAFE: this idea is not suitable for this workshop."
        return "SAFE"

    def reimagine(self, system: str, user: str) -> str:
        """A few sentences in the perspective's manner (`demo_text`); edited instructions get
        the demo's plain re-imagining."""
        for config in self.catalog.interceptions.values():
            if config.meta_prompt and system.startswith(config.meta_prompt[:60]):
                return reimagine(config.id, user)
        return reimagine(None, user)


@dataclass(frozen=True)
class DemoSpeed:
    tokens_per_second: float = 40.0
    first_token_delay: float = 0.2
    step_time: float = 0.12
    steps: int = 20


class DemoBackends:
    """The running simulators and the backend settings that point at them."""

    def __init__(
        self,
        catalog: Catalog,
        models: Sequence[str],
        speed: DemoSpeed | None = None,
        responder: Responder | None = None,
    ) -> None:
        speed = speed or DemoSpeed()
        self.llm = OllamaSimulator(
            SimSettings(
                models=tuple(SimModel(m) for m in dict.fromkeys(models)),
                tokens_per_second=speed.tokens_per_second,
                first_token_delay=speed.first_token_delay,
                max_parallel=2,
            ),
            responder=responder or DemoResponder(catalog),
        )
        loras = {lora.name for c in catalog.interceptions.values() for lora in c.loras}
        self.comfyui = ComfyUISimulator(
            SimConfig(
                execution=ExecConfig(step_time=speed.step_time, steps=speed.steps),
                models=ModelFiles(loras=tuple(sorted(loras))),
            )
        )
        self.llm_config: LLMBackendConfig | None = None
        self.comfyui_config: ComfyUIBackendConfig | None = None

    async def start(self) -> None:
        llm_url = await self.llm.start("127.0.0.1", 0)
        port = await self.comfyui.start()
        self.llm_config = LLMBackendConfig(name="demo-llm", url=llm_url, slots=2)
        self.comfyui_config = ComfyUIBackendConfig(
            name="demo-comfyui", url=f"http://127.0.0.1:{port}"
        )

    def configs(self) -> BackendConfigs:
        """The simulators' settings by kind, as `Backends` takes them."""
        if self.llm_config is None or self.comfyui_config is None:
            raise RuntimeError("the demo backends have not been started")
        return {BackendKind.LLM: [self.llm_config], BackendKind.COMFYUI: [self.comfyui_config]}

    async def stop(self) -> None:
        await self.comfyui.close()
        await self.llm.stop()
