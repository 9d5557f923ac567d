"""Backend instances (LLM servers, ComfyUI instances): their settings, clients and routing."""
