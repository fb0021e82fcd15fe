"""Print the Helm values of one deployment with the image of one release filled in.

    uv run python deploy/render_values.py prd --image REGISTRY/ddrc-platform:1a2b3c4d5e6f

Helm replaces a list given in a later values file or `--set` wholesale, so the image of
the user-code deployment (an item of `dagster-user-deployments.deployments`) cannot be
overridden on its own: this prints the whole values file with the image set, for
`helm upgrade ... -f <(...)`. The tag must be one release's own (the commit), never a
moving one like `latest`: a run's pod uses the image its code server reported at launch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

HELM_DIR = Path(__file__).resolve().parent / "helm"
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


def render(deployment: str, image: str) -> dict[str, Any]:
    if deployment not in DEPLOYMENTS:
        raise RenderError(f"deployment {deployment!r} is not one of {', '.join(DEPLOYMENTS)}")
    repository, tag = split_image(image)
    if tag in MOVING_TAGS:
        raise RenderError(f"tag {tag!r} is not a release's own: tag images with the commit")
    values = yaml.safe_load((HELM_DIR / f"values-{deployment}.yaml").read_text())
    deployments = values["dagster-user-deployments"]["deployments"]
    matches = [d for d in deployments if d["name"] == CODE_LOCATION]
    if len(matches) != 1:
        raise RenderError(f"values-{deployment}.yaml has no single deployment {CODE_LOCATION}")
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
