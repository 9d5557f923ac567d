"""Settings of one ComfyUI instance as the client uses it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ComfyUIConfig(BaseModel):
    """Every bound the client applies, with defaults that suit one classroom GPU server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "comfyui"
    url: str = "http://127.0.0.1:8188"
    connect_timeout: float = Field(5.0, gt=0)
    #: Bound on each HTTP exchange (headers and body reads), not on a whole render.
    request_timeout: float = Field(30.0, gt=0)
    connection_limit: int = Field(8, ge=1)
    max_preview_bytes: int = Field(2_000_000, ge=0)
    #: Previews per second per run that reach the consumer; the rest are dropped.
    preview_rate: float = Field(2.0, gt=0)
    #: After interrupting, how long to wait for ComfyUI's end message (next step boundary).
    interrupt_wait: float = Field(60.0, gt=0)
    ws_reconnect_min: float = Field(0.2, gt=0)
    ws_reconnect_max: float = Field(10.0, gt=0)
    #: Client pings find a dead ComfyUI peer (ComfyUI itself sends no pings).
    ws_heartbeat: float = Field(20.0, gt=0)
    ws_max_message_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    #: While a prompt's messages cannot reach us (socket down or reconnected), poll /history;
    #: while the instance is quiet under a waiting prompt, ask it something this often.
    poll_interval: float = Field(1.0, gt=0)
    #: A question to the instance (a request; the probe sent while a render is quiet) that
    #: gets no sign of life at all (no HTTP answer, no WebSocket frame) for this long fails
    #: the runs waiting on it, the submission included: it is down or stopped.
    unreachable_timeout: float = Field(120.0, gt=0)
    #: Prompts given up on (see `withdrawals`) remembered for withdrawal; the oldest go first.
    withdraw_limit: int = Field(32, ge=1)
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1)
    max_output_bytes: int = Field(100 * 1024 * 1024, ge=1)
    #: Buffered events per job; progress and previews are dropped when a consumer lags.
    job_event_buffer: int = Field(256, ge=8)
