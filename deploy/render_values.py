"""Print the Helm values of one deployment with the image of one release filled in.

    uv run python deploy/render_values.py prd --image REGISTRY/ddrc-platform:1a2b3c4d5e6f

The values are `helm/values.yaml` (common to every deployment) with the deployment's
overlay `helm/values-<deployment>.yaml` (only what differs) merged over it: mappings key by
key, lists of named mappings (like `env`) item by item by `name` as kubectl's strategic
merge does (an item the base lacks is appended), any other value replaced.

Helm replaces a list given in a later values file or `--set` wholesale, so neither the
overlay's env entries nor the image of the user-code deployment (an item of
`dagster-user-deployments.deployments`) can be handed to Helm on their own: this prints the
whole merged values with the image set, for `helm upgrade ... -f <(...)`. The tag must be
one release's own (the commit), never a moving one like `latest`: a run's pod uses the image
its code server reported at launch.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

HELM_DIR = Path(__file__).resolve().parent / "helm"
BASE = "values.yaml"
DEPLOYMENTS = ("dev", "prd")
CODE_LOCATION = "ddrc-platform"
MOVING_TAGS = {"unset", "latest", "dev", "prd", "main"}


class RenderError(ValueError):
    """The image does not fit the deployment; the message says why."""


def split_image(image: str) -> tuple[str, str]:
    """`registry/name:tag` into (`registry/name`, `tag`); a tag is required."""
    repository, sep, tag = image.rpartition(":")
    if not sep or not repository or "/" in tag or not tag:
        raise RenderError(f"image {image!r} has no tag: give REPOSITORY:TAG")
    return repository, tag


def overlay_name(deployment: str) -> str:
    return f"values-{deployment}.yaml"


def _named(node: Any) -> bool:
    return (
        isinstance(node, list)
        and bool(node)
        and all(isinstance(i, dict) and "name" in i for i in node)
    )


def merge(base: Any, overlay: Any) -> Any:
    """`overlay` over `base` (neither is changed): see the module's docstring."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = copy.deepcopy(base)
        for key, value in overlay.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if _named(base) and _named(overlay):
        by_name = {item["name"]: item for item in overlay}
        if len(by_name) != len(overlay):
            raise RenderError(f"an overlay list names an item twice: {sorted(by_name)}")
        merged = [merge(item, by_name.pop(item["name"], {})) for item in base]
        return merged + [copy.deepcopy(item) for item in overlay if item["name"] in by_name]
    return copy.deepcopy(overlay)


def load_values(deployment: str) -> dict[str, Any]:
    """The deployment's values as Helm gets them, the image still unset."""
    if deployment not in DEPLOYMENTS:
        raise RenderError(f"deployment {deployment!r} is not one of {', '.join(DEPLOYMENTS)}")
    base = yaml.safe_load((HELM_DIR / BASE).read_text())
    overlay = yaml.safe_load((HELM_DIR / overlay_name(deployment)).read_text()) or {}
    values = merge(base, overlay)
    for location in values["dagster-user-deployments"]["deployments"]:
        unset = [e["name"] for e in location.get("env", []) if e.keys() == {"name"}]
        if unset:
            raise RenderError(
                f"{overlay_name(deployment)} gives no value for {', '.join(unset)} "
                f"({location['name']}): a name only in {BASE} is the overlay's to fill"
            )
    return values


def render(deployment: str, image: str) -> dict[str, Any]:
    if deployment not in DEPLOYMENTS:
        raise RenderError(f"deployment {deployment!r} is not one of {', '.join(DEPLOYMENTS)}")
    repository, tag = split_image(image)
    if tag in MOVING_TAGS:
        raise RenderError(f"tag {tag!r} is not a release's own: tag images with the commit")
    values = load_values(deployment)
    deployments = values["dagster-user-deployments"]["deployments"]
    matches = [d for d in deployments if d["name"] == CODE_LOCATION]
    if len(matches) != 1:
        raise RenderError(f"values for {deployment} have no single deployment {CODE_LOCATION}")
    matches[0]["image"].update(repository=repository, tag=tag)
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("deployment", choices=DEPLOYMENTS)
    parser.add_argument("--image", required=True, help="REPOSITORY:TAG of the release")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        values = render(args.deployment, args.image)
    except RenderError as error:
        print(f"render_values: {error}", file=sys.stderr)
        return 2
    text = yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
