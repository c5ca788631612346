import click

from .. import output
from ..engine import local_client
from ..images import IMAGES, ImageBuilder
from ..images import cache as image_cache
from ..providers import seed
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
    client = local_client()
    rows = ImageBuilder(client).status()
    seeds = seed.all_seeds(client)
    if as_json:
        output.write(output.envelope("images ls", True, {"images": rows, "seeds": seeds}))
        return
    output.table(
        None,
        ["name", "image", "id", "size MB", "content hash", "created"],
        [[r["name"], r["ref"], r["id"], r["size_mb"], r["hash"], r["created"]] for r in rows],
    )
    if seeds:
        output.table(
            "seeds (each node's images, loaded once, copied into new nodes)",
            ["volume", "images", "in use"],
            [[s["volume"], s["images"], "yes" if s["in_use"] else "no"] for s in seeds],
        )


@images.command("prune")
@json_option
@handle_errors("images prune")
def prune(as_json):
    """Remove the caches: seed volumes no node uses, and the saved image tars.
    The images stay; both caches are made again when an `up` needs them."""
    client = local_client()
    seeds = seed.remove_unused(client)
    tars = image_cache.prune(())
    data = {"seeds_removed": seeds, "tars_removed": tars}
    if as_json:
        output.write(output.envelope("images prune", True, data))
        return
    output.out.print(f"removed {seeds} seed volume(s) and {tars} cached image tar(s)")
