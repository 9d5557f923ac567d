"""The simulator's HTTP routes, each also served under `/api` like ComfyUI."""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from server.harness.comfyui_sim.catalog import ModelFiles, NodeDef
from server.harness.comfyui_sim.executor import Executor
from server.harness.comfyui_sim.sockets import SocketHub
from server.harness.comfyui_sim.state import QueueItem, SimState
from server.harness.comfyui_sim.validate import validate_prompt

FOLDERS = ("output", "input", "temp")


class Routes:
    def __init__(
        self,
        state: SimState,
        catalog: dict[str, NodeDef],
        models: ModelFiles,
        hub: SocketHub,
        executor: Executor,
        root: Path,
    ) -> None:
        self.state, self.catalog, self.models = state, catalog, models
        self.hub, self.executor, self.root = hub, executor, root

    def install(self, app: web.Application) -> None:
        table = [
            ("GET", "/ws", self.hub.handle),
            ("GET", "/system_stats", self.system_stats),
            ("GET", "/features", self.features),
            ("GET", "/models", self.models_list),
            ("GET", "/models/{folder}", self.models_folder),
            ("GET", "/embeddings", self.empty),
            ("GET", "/object_info", self.object_info),
            ("GET", "/object_info/{cls}", self.object_info_one),
            ("GET", "/queue", self.queue),
            ("GET", "/prompt", self.prompt_info),
            ("POST", "/prompt", self.post_prompt),
            ("POST", "/queue", self.post_queue),
            ("POST", "/interrupt", self.interrupt),
            ("GET", "/history", self.history),
            ("GET", "/history/{pid}", self.history_one),
            ("POST", "/history", self.post_history),
            ("GET", "/view", self.view),
            ("POST", "/upload/image", self.upload),
            ("POST", "/free", self.ok),
        ]
        for prefix in ("", "/api"):
            for method, path, handler in table:
                app.router.add_route(method, prefix + path, handler)

    async def ok(self, request: web.Request) -> web.Response:
        return web.Response()

    async def empty(self, request: web.Request) -> web.Response:
        return web.json_response([])

    async def system_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "system": {
                    "os": "posix",
                    "ram_total": 8 << 30,
                    "ram_free": 6 << 30,
                    "comfyui_version": "0.3.64",
                    "required_frontend_version": "1.27.10",
                    "python_version": "3.11 (atelier simulator)",
                    "pytorch_version": "simulated",
                    "embedded_python": False,
                    "argv": ["main.py", "--simulator"],
                },
                "devices": [
                    {
                        "name": "sim",
                        "type": "cpu",
                        "index": None,
                        "vram_total": 0,
                        "vram_free": 0,
                        "torch_vram_total": 0,
                        "torch_vram_free": 0,
                    }
                ],
            }
        )

    async def features(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"supports_preview_metadata": True, "max_upload_size": self.hub.max_upload_size}
        )

    async def models_list(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.models.folders()))

    async def models_folder(self, request: web.Request) -> web.Response:
        files = self.models.folders().get(request.match_info["folder"])
        return web.Response(status=404) if files is None else web.json_response(files)

    async def object_info(self, request: web.Request) -> web.Response:
        return web.json_response({n: d.object_info() for n, d in self.catalog.items()})

    async def object_info_one(self, request: web.Request) -> web.Response:
        node = self.catalog.get(request.match_info["cls"])
        return web.json_response({node.name: node.object_info()} if node else {})

    async def queue(self, request: web.Request) -> web.Response:
        running = [self.state.running.as_list()] if self.state.running else []
        return web.json_response(
            {"queue_running": running, "queue_pending": [i.as_list() for i in self.state.pending]}
        )

    async def prompt_info(self, request: web.Request) -> web.Response:
        return web.json_response({"exec_info": {"queue_remaining": self.state.queue_remaining}})

    async def post_prompt(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()  # malformed JSON -> aiohttp's plain 500
        number = self.state.next_number(body)
        if "prompt" not in body:
            return _error(400, "no_prompt", "No prompt provided", "No prompt provided")
        result = validate_prompt(body["prompt"], self.catalog, self._input_files())
        if result.status == 400:
            return web.json_response(
                {"error": result.error, "node_errors": result.node_errors}, status=400
            )
        extra = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        pid = str(body.get("prompt_id") or uuid.uuid4())
        self.state.put(QueueItem(number, pid, body["prompt"], extra, result.outputs))
        self.state.submitted += 1
        self.hub.status()
        self.executor.wake.set()
        return web.json_response(
            {"prompt_id": pid, "number": number, "node_errors": result.node_errors}
        )

    async def post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.state.clear()
            self.hub.status()
        for pid in body.get("delete", []):
            if self.state.delete(pid):
                self.hub.status()
        return web.Response()

    async def interrupt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        pid = body.get("prompt_id") if isinstance(body, dict) else None
        running = self.state.running
        if pid is None or (running is not None and running.prompt_id == pid):
            self.state.interrupt_flag = True
            self.state.interrupt_requested.set()
            if running is not None:
                self.state.journal.append(("interrupted", running.prompt_id))
        return web.Response()

    async def history(self, request: web.Request) -> web.Response:
        max_items = request.query.get("max_items")
        offset = int(request.query.get("offset", "-1"))
        page = self.state.history_page(int(max_items) if max_items else None, offset)
        return web.json_response(page)

    async def history_one(self, request: web.Request) -> web.Response:
        pid = request.match_info["pid"]
        entry = self.state.history.get(pid)
        return web.json_response({pid: entry} if entry else {})

    async def post_history(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.state.history.clear()
        for pid in body.get("delete", []):
            self.state.history.pop(pid, None)
        return web.Response()

    async def view(self, request: web.Request) -> web.StreamResponse:
        name = request.query.get("filename", "")
        kind = request.query.get("type", "output")
        if name.endswith("]") and " [" in name:
            name, _, annotated = name[:-1].rpartition(" [")
            kind = annotated
        if not name or name.startswith("/") or ".." in name or kind not in FOLDERS:
            return web.Response(status=400)
        base = (self.root / kind).resolve()
        folder = (base / request.query.get("subfolder", "")).resolve()
        if folder != base and base not in folder.parents:
            return web.Response(status=403)
        path = folder / name
        if not path.is_file():
            return web.Response(status=404)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(
            body=path.read_bytes(),
            content_type=mime,
            headers={"Content-Disposition": f'filename="{name}"'},
        )

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        image = form.get("image")
        if not isinstance(image, web.FileField) or not image.filename:
            return web.Response(status=400)
        kind = str(form.get("type", "input")) or "input"
        subfolder = str(form.get("subfolder", ""))
        base = (self.root / (kind if kind in FOLDERS else "input")).resolve()
        folder = (base / subfolder).resolve()
        if folder != base and base not in folder.parents:
            return web.Response(status=400)
        data = image.file.read()
        name = _store(
            folder,
            Path(image.filename).name,
            data,
            str(form.get("overwrite", "")).lower() in ("true", "1"),
        )
        return web.json_response({"name": name, "subfolder": subfolder, "type": kind})

    def _input_files(self) -> set[str]:
        base = self.root / "input"
        return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}


def _store(folder: Path, name: str, data: bytes, overwrite: bool) -> str:
    """ComfyUI's rule: same bytes keep the name, different bytes get `name (1).ext`."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, dot, ext = name.rpartition(".")
    candidate, counter = name, 1
    while (folder / candidate).exists() and not overwrite:
        if (
            hashlib.sha256((folder / candidate).read_bytes()).digest()
            == hashlib.sha256(data).digest()
        ):
            return candidate
        candidate = f"{stem} ({counter}){dot}{ext}" if dot else f"{name} ({counter})"
        counter += 1
    (folder / candidate).write_bytes(data)
    return candidate


def _error(status: int, kind: str, message: str, details: str = "") -> web.Response:
    return web.json_response(
        {
            "error": {"type": kind, "message": message, "details": details, "extra_info": {}},
            "node_errors": {},
        },
        status=status,
    )
