import click

from .. import output
from ..errors import EXIT_FAILURE
from .common import default_scenario, kept, lab_command, provider_for, resolve_lab


@click.command()
@lab_command("compare")
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False),
    help="Scenario to bring up when no lab NAME runs (default: scenarios/default.yaml); "
    "a lab compare brings up, it takes down again.",
)
@click.option("--runs", type=click.IntRange(3, 10), default=3, show_default=True, help="iperf3 runs per variant.")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(["raw", "bridges", "overlays"]),
    help="Measure only these kinds of variant (repeat the option); default: all. "
    "--only overlays puts the encrypted overlay against the plain one, and no more.",
)
@click.option(
    "--report", "report_dir", type=click.Path(file_okay=False), help="Write report.md, report.html and chart.svg here."
)
def compare(name, scenario, runs, only, report_dir, inventory, provider, tofu, as_json):
    """The same web/db/redis stack on a raw veth pair, the default bridge, a user bridge
    and the lab's overlays: name resolution, isolation, ports, path, latency, throughput.
    Exit 1 when a measurement failed (the table and the JSON say which, with the error)."""
    # imported here: scapy and matplotlib cost a second that every other command would pay
    from .. import compare as compareapi
    from ..compare import report as reportmod
    from ..config import load_scenario

    lab = name or resolve_lab(None)
    where = provider_for(inventory, tofu, provider)

    def spec():  # read only to make a missing lab: a running one is compared as it was made
        return where.nodes_for(load_scenario(scenario or default_scenario(), name=lab, own_nodes=where.sized_by_flags))

    progress = output.Progress()
    data = compareapi.run(lab, where, spec, say=progress.say, runs=runs, only=only or compareapi.KINDS)
    progress.done()
    if report_dir:
        data["report"] = reportmod.write(data, report_dir)
    doc = kept(lab, "compare", output.envelope("compare", not data["failed"], data, errors=data["failed"]))
    if as_json:
        output.write(doc)
    else:
        _render(data, report_dir)
    if data["failed"]:
        raise SystemExit(EXIT_FAILURE)


def _render(data, report_dir) -> None:
    from ..compare import report as reportmod

    output.render_compare(data["lab"], *reportmod.rows(data))
    if report_dir:
        output.out.print(f"report: {data['report']['markdown']} (and report.html, chart.svg); {data['seconds']}s")
    else:
        output.out.print(f"{data['seconds']}s; --report DIR writes a report with a chart and the commands")
    for line in data["failed"]:
        output.err.print(f"not measured: {line}")
