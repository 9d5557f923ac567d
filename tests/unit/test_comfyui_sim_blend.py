"""The simulator's image-to-image: the picture `LoadImage` names shows in what it saves."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageStat

from server.harness.comfyui_sim.blend import blended_png, input_picture, picture_size
from server.harness.comfyui_sim.png import gradient_png


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def _mean(png: bytes) -> list[float]:
    with Image.open(io.BytesIO(png)) as image:
        return list(ImageStat.Stat(image.convert("RGB")).mean)


def _graph(name: str) -> dict[str, dict[str, object]]:
    return {"1": {"class_type": "LoadImage", "inputs": {"image": name}}}


def test_the_loaded_picture_is_found_only_inside_the_input_folder(tmp_path: Path) -> None:
    inputs = tmp_path / "input"
    (inputs / "atelier").mkdir(parents=True)
    (inputs / "atelier" / "a.png").write_bytes(_png((1, 2, 3)))
    (tmp_path / "secret.png").write_bytes(_png((1, 2, 3)))
    assert input_picture(_graph("atelier/a.png"), inputs) == (inputs / "atelier" / "a.png")
    assert input_picture(_graph("../secret.png"), inputs) is None
    assert input_picture(_graph("missing.png"), inputs) is None
    plain = {"1": {"class_type": "EmptyImage", "inputs": {"image": "atelier/a.png"}}}
    assert input_picture(plain, inputs) is None


def test_the_saved_picture_takes_the_inputs_colour_and_keeps_its_text(tmp_path: Path) -> None:
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    red.write_bytes(_png((240, 0, 0)))
    blue.write_bytes(_png((0, 0, 240)))
    reddish = blended_png(16, 16, "same seed", red, {"prompt": "{}"})
    bluish = blended_png(16, 16, "same seed", blue, {"prompt": "{}"})
    assert _mean(reddish)[0] > _mean(bluish)[0] + 100  # same seed: the input made the change
    assert _mean(bluish)[2] > _mean(reddish)[2] + 100
    assert _mean(reddish) != _mean(gradient_png(16, 16, "same seed"))
    with Image.open(io.BytesIO(reddish)) as image:
        assert image.size == (16, 16)
        assert image.text == {"prompt": "{}"}  # type: ignore[attr-defined]


def test_an_edit_graph_keeps_the_pictures_shape_within_the_cap(tmp_path: Path) -> None:
    wide = tmp_path / "wide.png"
    wide.write_bytes(_png((9, 9, 9), (400, 100)))
    assert picture_size(wide, 1024) == (400, 100)
    assert picture_size(wide, 200) == (200, 50)
