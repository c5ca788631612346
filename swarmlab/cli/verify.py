import click

from .. import output
from ..errors import EXIT_FAILURE
from .common import kept, lab_command, provider_for, resolve_lab


@click.command()
@lab_command("verify")
@click.option(
    "--capture",
    "capture_dir",
    type=click.Path(file_okay=False),
    help="Keep the packet captures here (pcap, opens in Wireshark).",
)
@click.option(
    "--timeout",
    default=60,
    show_default=True,
    type=click.IntRange(10, 3600),
    help="Seconds each check may take (commands inside it get proportionally longer): "
    "raise it for slow hosts, e.g. VMs under software emulation.",
)
def verify(name, capture_dir, timeout, inventory, provider, tofu, as_json):
    """Prove the lab's traffic: DNS, reachability and isolation, ports, the data flow, the wire, MTU.
    Exit 0 only when every check passed (or cannot apply on this kernel, with the reason)."""
    from .. import verify as verifyapi  # here: scapy is slow to import and only verify needs it

    report = verifyapi.run(resolve_lab(name), provider_for(inventory, tofu, provider), capture_dir, timeout=timeout)
    doc = kept(report["lab"], "verify", output.envelope("verify", report["passed"], report))
    if as_json:
        output.write(doc)
    else:
        output.render_checks(report["checks"], f"verify {report['lab']}")
        output.render_matrix(report["matrix"])
        where = report["capture_dir"] or "not kept (--capture DIR keeps them)"
        output.out.print(f"packet captures: {where}; {report['seconds']}s")
    if not report["passed"]:
        raise SystemExit(EXIT_FAILURE)
