import click

from .. import output
from .common import handle_errors


@click.group()
def vagrant():
    """The Vagrant provider's helpers (VMs: swarmlab up --provider vagrant)."""


@vagrant.group()
def box():
    """The box the VMs boot from."""


@box.command(name="build")
@click.option(
    "--out",
    default="vagrant/.boxes",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the .box file is written.",
)
@click.option("--size", "size_gb", default=8, show_default=True, help="Disk size of each VM, GiB.")
@click.option("--no-add", is_flag=True, help="Only write the .box file, do not `vagrant box add` it.")
@handle_errors("vagrant box build")
def box_build(out, size_gb, no_add):
    """Make a libvirt box offline (debootstrap -> ext4 -> qcow2, kernel booted directly)
    and add it as swarmlab/bookworm: for machines that cannot download a box."""
    from pathlib import Path

    from ..providers.vagrant_box import build

    progress = output.Progress()
    path = build(Path(out), say=progress.say, size_gb=size_gb, add=not no_add)
    progress.done()
    output.out.print(f"box written to {path}" + ("" if no_add else "; added as swarmlab/bookworm"))


@vagrant.command(name="inventory")
@handle_errors("vagrant inventory")
def inventory():
    """Print the inventory made for the running VMs (SSH provider input, host keys pinned)."""
    from ..providers.vagrant import VagrantProvider

    p = VagrantProvider()
    if not p.inventory_path.exists():
        raise click.ClickException("no VMs yet: swarmlab up --provider vagrant")
    click.echo(p.inventory_path.read_text(), nl=False)
