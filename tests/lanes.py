"""How a run is split in lanes: pytest-xdist's workers, `-n 2 --dist loadgroup` (pyproject's
addopts). Each lane is a session of its own for the labs (tests/conftest.py gives it its
own prefix) and shares the engine's locks with the others (tests/sessions.py).

What runs where, and why:
- The modules that hold the machine long or whole are one unit of work, started first: the
  VM tests (about 22 minutes under emulation) and the engine restart (it holds the engine
  alone). In one lane they never wait for each other: a restart in another lane would wait
  out the VM test while its turnstile held up every lane.
- Unit tests come next, each a unit of its own: the other lanes take them while the
  restart runs, so no lab but the restart's own is up when the engine goes away.
- Every other integration module is one unit: its tests share the module's lab, in the
  file's order.
Without `--dist loadgroup` (`-n 0`, say) nothing changes: one session, the file order."""
from collections import defaultdict
from typing import Dict, List, Optional, Set

import pytest

WHOLE_MACHINE = "vms-and-engine-restart"
_WHOLE_MARKS = {"vagrant", "vagrant_extra", "engine_alone"}


def unit_of(module: str, module_marks: Set[str]) -> Optional[str]:
    """The unit of work a test of this module belongs to; None: a unit by itself."""
    if module_marks & _WHOLE_MARKS:
        return WHOLE_MACHINE
    if "integration" in module_marks:
        return module
    return None


def rank(unit: Optional[str]) -> int:
    return 0 if unit == WHOLE_MACHINE else 1 if unit is None else 2


def assign(items: List[pytest.Item]) -> None:
    """Mark each test with its unit (xdist_group) and put the units in the order above."""
    def module(item):
        return item.nodeid.split("::")[0]

    marks: Dict[str, Set[str]] = defaultdict(set)
    for item in items:
        marks[module(item)] |= {m.name for m in item.iter_markers()}
    units = {}
    for item in items:
        unit = unit_of(module(item), marks[module(item)])
        if unit:
            item.add_marker(pytest.mark.xdist_group(unit))
        units[item.nodeid] = unit
    order = {item.nodeid: i for i, item in enumerate(items)}
    items.sort(key=lambda it: (rank(units[it.nodeid]), order[it.nodeid]))
