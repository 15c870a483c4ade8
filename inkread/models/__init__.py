"""The models shipped with the package, by the name `--model` and `--init` take.

docs/models.md says what each was trained on and what it reads well."""

from pathlib import Path

# name -> what it is, for the command line's help; the first is the default
BUNDLED = {
    "default": "19th-century English cursive (the default)",
    "generic": "many hands: English and French cursive, typewriting, print",
}


def bundled_path(name: str) -> Path:
    return Path(__file__).with_name(f"{name}.pt")
