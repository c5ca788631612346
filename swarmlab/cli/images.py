import click
from rich.table import Table

from .. import output
from ..engine import local_client
from ..images import IMAGES, ImageBuilder
from .common import handle_errors, json_option


@click.group()
def images():
    """The lab's images (built offline from a debootstrap base)."""


@images.command("build")
@click.argument("names", nargs=-1, type=click.Choice(IMAGES))
@click.option("--rebuild", is_flag=True, help="Rebuild even when nothing changed.")
@click.option("--base", help="Base image instead of the debootstrap one (e.g. debian:bookworm-slim).")
@json_option
@handle_errors("images build")
def build(names, rebuild, base, as_json):
    """Build the images (skipping those whose content did not change)."""
    progress = output.Progress(quiet=as_json)
    results = ImageBuilder(local_client(), base=base, say=progress.say).build(names or IMAGES, rebuild=rebuild)
    rows = [{"image": r.ref, "built": r.built, "seconds": round(r.seconds, 1), "id": r.image_id} for r in results]
    if as_json:
        output.write(output.envelope("images build", True, rows))
        return
    for r in rows:
        output.out.print(f"{r['image']}: {'built in %.0fs' % r['seconds'] if r['built'] else 'up to date'}")


@images.command("ls")
@json_option
@handle_errors("images ls")
def ls(as_json):
    """The lab's images on this engine."""
    rows = ImageBuilder(local_client()).status()
    if as_json:
        output.write(output.envelope("images ls", True, rows))
        return
    t = Table()
    for col in ("name", "image", "id", "size MB", "content hash", "created"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["name"], r["ref"], r["id"], r["size_mb"], r["hash"], r["created"])
    output.out.print(t)
