"""The `clinic` flags behind the lobby's languages and pictures: --language, --image, exercise update."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from shared.care.models import Exercise, Patient
from tests.cli_support import run, run_json


def test_patient_add_stores_the_lobby_language_and_refuses_an_unknown_one(cli: CliRunner, engine: Engine) -> None:
    info = run_json(cli, "patient", "add", "--first", "Rosa", "--last", "Diaz", "--dob", "1948-02-03",
                    "--language", "es")  # fmt: skip
    assert isinstance(info, dict)
    code, _, err = run(cli, "patient", "add", "--first", "Ana", "--last", "Ruiz", "--dob", "1950-01-01",
                       "--language", "xx")  # fmt: skip
    assert (code, err.strip()) == (2, "error: language 'xx' is not one of en, es")
    with engine.connect() as conn:
        assert conn.execute(select(Patient.first_name, Patient.language)).all() == [("Rosa", "es")], "Ana not added"
    said = run(cli, "patient", "language", str(info["id"]), "en")[:2]
    assert said == (0, f"patient {info['id']}: lobby language English\n")


def test_exercise_add_and_update_take_a_picture_and_spanish_texts(
    cli: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    good, bad = tmp_path / "walk.jpg", tmp_path / "walk.gif"
    Image.new("RGB", (64, 48), "navy").save(good, format="JPEG")
    Image.new("RGB", (64, 48), "navy").save(bad, format="GIF")
    code, _, err = run(cli, "exercise", "add", "Walk", "--image", str(bad))
    assert (code, err.strip()) == (2, "error: the picture is GIF; use a PNG or JPEG file")
    info = run_json(cli, "exercise", "add", "Walk", "--image", str(good), "--name-es", "Caminar")
    assert isinstance(info, dict) and info["image"].endswith(".png")
    assert (tmp_path / "data" / "exercise-images" / info["image"]).exists()
    code, out, _ = run(cli, "exercise", "update", "Walk", "--instructions-es", "Camine despacio.", "--no-image")
    assert code == 0, out
    with engine.connect() as conn:
        row = conn.execute(select(Exercise.name_es, Exercise.instructions_es, Exercise.image_file)).one()
    assert tuple(row) == ("Caminar", "Camine despacio.", None)
    assert run(cli, "exercise", "update", "Run")[0] == 2
